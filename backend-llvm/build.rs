//! Compiles `cpp/codegen.cpp` (the reused code-generation pass manager, see
//! `src/codegen.rs`) against the same LLVM 19 that llvm-sys links: its headers and
//! C++ flags come from that LLVM's `llvm-config`.

use std::path::PathBuf;
use std::process::Command;

/// `llvm-config` of the LLVM llvm-sys uses: `$LLVM_SYS_191_PREFIX/bin/llvm-config`,
/// else `llvm-config-19` on the PATH, else Debian's location.
fn llvm_config() -> PathBuf {
    if let Ok(prefix) = std::env::var("LLVM_SYS_191_PREFIX") {
        return PathBuf::from(prefix).join("bin/llvm-config");
    }
    let on_path = Command::new("llvm-config-19").arg("--version").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return PathBuf::from("llvm-config-19");
    }
    PathBuf::from("/usr/lib/llvm-19/bin/llvm-config")
}

fn main() {
    println!("cargo:rerun-if-changed=cpp/codegen.cpp");
    println!("cargo:rerun-if-env-changed=LLVM_SYS_191_PREFIX");
    let config = llvm_config();
    let out = Command::new(&config).arg("--cxxflags").output().unwrap_or_else(|e| {
        panic!(
            "running {}: {e} (is llvm-19-dev installed? scripts/setup.sh)",
            config.display()
        )
    });
    assert!(out.status.success(), "{} --cxxflags failed", config.display());
    let cxxflags = String::from_utf8_lossy(&out.stdout);
    let mut build = cc::Build::new();
    build.cpp(true).file("cpp/codegen.cpp").warnings(false);
    for flag in cxxflags.split_whitespace() {
        build.flag(flag);
    }
    build.compile("leones_codegen");
}
