// Leones: a code-generation pass manager built once per TargetMachine and run on many
// modules. See backend-llvm/src/codegen.rs for why; this file is only the part LLVM's
// C API cannot express (it builds a fresh legacy pass manager on every
// LLVMTargetMachineEmitToMemoryBuffer call, ~150 passes constructed and destroyed
// per unit).
//
// Invariants the Rust side keeps: one LeonesCodegen per TargetMachine, used by one
// thread at a time, disposed before its TargetMachine; every module it runs on has
// that TargetMachine's triple and data layout.

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/CodeGen/RegAllocRegistry.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/CodeGen.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <mutex>

// The allocator registry lives in libLLVM: refer to its copy, never make our own
// (an instantiation here would be a second registry LLVM never reads).
extern template class llvm::RegisterRegAllocBase<llvm::RegisterRegAlloc>;

namespace {

struct LeonesCodegen {
    // The object file of the last run. The stream writes into `object` directly
    // (raw_svector_ostream has no buffer of its own), so there is nothing to flush.
    llvm::SmallVector<char, 0> object;
    llvm::raw_svector_ostream stream{object};
    llvm::legacy::PassManager passes;
};

// Serializes every pass-manager construction of ours: the register allocator is
// chosen through a process-wide default while one is built.
std::mutex construction;

using RegAllocCtor = llvm::RegisterRegAlloc::FunctionPassCtor;

// The registered allocator called `name` (LLVM's "default" is its marker for "pick by
// optimization level"), or null.
RegAllocCtor registered_allocator(llvm::StringRef name) {
    for (auto *node = llvm::RegisterRegAlloc::getList(); node; node = node->getNext()) {
        if (node->getName() == name) return node->getCtor();
    }
    return nullptr;
}

// Whether `-regalloc` was given on LLVM's command line: then it rules, not us.
bool regalloc_given() {
    auto &options = llvm::cl::getRegisteredOptions();
    auto it = options.find("regalloc");
    return it != options.end() && it->second->getNumOccurrences() > 0;
}

// FastISel selects no tail call and no atomic load, and when a block's `musttail` call
// goes to SelectionDAG, so does every instruction above it in the block. A unit's
// exits and jumps end in exactly that: the exit stores, then an atomic load of the
// next unit's address and the `musttail` call. Splitting each such block before the
// load leaves only the load, the call and the `ret` to SelectionDAG (a bridge's code
// generation 30% cheaper; the code is the same but for one more jump the block
// placement removes). Done after the IR passes, which would merge the blocks back.
void split_tail_calls(llvm::Function &function) {
    llvm::SmallVector<llvm::Instruction *, 8> splits;
    for (auto &block : function) {
        for (auto &inst : block) {
            auto *call = llvm::dyn_cast<llvm::CallInst>(&inst);
            if (!call || !call->isMustTailCall()) continue;
            // The callee's chain in this block: cast(s) of a load. Split before its
            // first instruction (the load).
            llvm::Instruction *first = call;
            llvm::Value *callee = call->getCalledOperand();
            while (auto *def = llvm::dyn_cast<llvm::Instruction>(callee)) {
                if (def->getParent() != &block) break;
                first = def;
                if (!llvm::isa<llvm::CastInst>(def)) break;
                callee = def->getOperand(0);
            }
            if (first != &block.front()) splits.push_back(first);
        }
    }
    for (auto *at : splits) at->getParent()->splitBasicBlock(at, "tail");
}

// `instcombine` turns the lowering's sign-bit mask back into `llvm.fabs`, which FastISel
// does not select (SelectionDAG then gets the block from its top down to the call).
// The mask again (`f32`/`f64` only, what the lowering emits): register moves to and
// from a general register around an `and`, instead of an `andpd` with a constant-pool
// mask — on pi's loop, off the loop-carried chain.
void mask_fabs(llvm::Function &function) {
    llvm::SmallVector<llvm::IntrinsicInst *, 4> calls;
    for (auto &block : function) {
        for (auto &inst : block) {
            auto *call = llvm::dyn_cast<llvm::IntrinsicInst>(&inst);
            if (call && call->getIntrinsicID() == llvm::Intrinsic::fabs &&
                (call->getType()->isDoubleTy() || call->getType()->isFloatTy()))
                calls.push_back(call);
        }
    }
    for (auto *call : calls) {
        llvm::IRBuilder<> at(call);
        unsigned bits = call->getType()->getPrimitiveSizeInBits().getFixedValue();
        llvm::Value *raw = at.CreateBitCast(call->getArgOperand(0), at.getIntNTy(bits));
        llvm::Value *masked = at.CreateAnd(raw, llvm::APInt::getSignedMaxValue(bits));
        call->replaceAllUsesWith(at.CreateBitCast(masked, call->getType()));
        call->eraseFromParent();
    }
}

// `instcombine` merges `phi(extractvalue a, i; extractvalue b, i)` into `extractvalue
// (phi a, b), i` — for a unit, a phi of `{i64, i1}` overflow results. FastISel selects
// no branch into a block with a struct-typed phi, and SelectionDAG got the whole
// predecessor block (pi's loop body). Back to one phi per element that is used, the
// `extractvalue`s at the end of each predecessor (a struct phi with another use stays).
// Returns whether it split any.
bool split_aggregate_phis(llvm::Function &function) {
    llvm::SmallVector<llvm::PHINode *, 4> phis;
    for (auto &block : function) {
        for (auto &phi : block.phis()) {
            if (!phi.getType()->isStructTy()) continue;
            bool only_extracts = llvm::all_of(phi.users(), [](llvm::User *user) {
                auto *extract = llvm::dyn_cast<llvm::ExtractValueInst>(user);
                return extract && extract->getNumIndices() == 1;
            });
            if (only_extracts) phis.push_back(&phi);
        }
    }
    for (auto *phi : phis) {
        llvm::SmallVector<llvm::PHINode *, 2> parts(phi->getType()->getStructNumElements(), nullptr);
        for (auto *user : llvm::make_early_inc_range(phi->users())) {
            auto *extract = llvm::cast<llvm::ExtractValueInst>(user);
            unsigned index = extract->getIndices()[0];
            if (!parts[index]) {
                parts[index] = llvm::PHINode::Create(extract->getType(), phi->getNumIncomingValues(),
                                                     phi->getName() + ".part", phi->getIterator());
                for (unsigned i = 0; i < phi->getNumIncomingValues(); i++) {
                    llvm::BasicBlock *from = phi->getIncomingBlock(i);
                    llvm::IRBuilder<> at(from->getTerminator());
                    parts[index]->addIncoming(at.CreateExtractValue(phi->getIncomingValue(i), index), from);
                }
            }
            extract->replaceAllUsesWith(parts[index]);
            extract->eraseFromParent();
        }
        phi->eraseFromParent();
    }
    return !phis.empty();
}

// What code generation does to a module before its passes: everything above, so that
// FastISel selects all of a unit but its tail calls. After the IR passes, which would
// undo each of these.
void prepare_for_fast_isel(llvm::Module &module) {
    for (auto &function : module) {
        mask_fabs(function);
        // A split phi may have been the only non-extract user of another one.
        while (split_aggregate_phis(function)) {
        }
        split_tail_calls(function);
    }
}

}  // namespace

extern "C" {

// Builds the pass manager that emits object files for `tm`; with `basic_regalloc`
// (only for an optimizing TargetMachine) its register allocator is LLVM's basic one
// instead of the greedy one. Null on failure, with a message in `*error` (free it
// with LLVMDisposeMessage).
LeonesCodegen *leones_codegen_create(LLVMTargetMachineRef tm, int basic_regalloc, char **error) {
    auto *target = reinterpret_cast<llvm::TargetMachine *>(tm);
    auto codegen = std::make_unique<LeonesCodegen>();
    std::lock_guard<std::mutex> hold(construction);
    // TargetPassConfig asks RegisterRegAlloc::getDefault() for the allocator when it
    // adds it; "default" (or null, before LLVM first looks) means greedy when
    // optimizing. We set basic for this construction only and put back what was
    // there — "default" when it was still null, which is what LLVM itself stores
    // then, absent -regalloc.
    RegAllocCtor previous = llvm::RegisterRegAlloc::getDefault();
    RegAllocCtor basic = registered_allocator("basic");
    RegAllocCtor by_level = registered_allocator("default");
    bool override_allocator = basic_regalloc && basic && by_level && !regalloc_given() &&
                              target->getOptLevel() != llvm::CodeGenOptLevel::None;
    if (override_allocator) llvm::RegisterRegAlloc::setDefault(basic);
    bool failed = target->addPassesToEmitFile(codegen->passes, codegen->stream, nullptr,
                                              llvm::CodeGenFileType::ObjectFile);
    if (override_allocator) llvm::RegisterRegAlloc::setDefault(previous ? previous : by_level);
    if (failed) {
        *error = LLVMCreateMessage("this TargetMachine cannot emit object files");
        return nullptr;
    }
    return codegen.release();
}

// Generates code for `module` into a new memory buffer (the caller owns it). The
// pass manager's MachineModuleInfo and AsmPrinter start and finish a module in their
// doInitialization / doFinalization, so nothing of one module stays for the next.
LLVMMemoryBufferRef leones_codegen_run(LeonesCodegen *codegen, LLVMModuleRef module) {
    codegen->object.clear();
    prepare_for_fast_isel(*llvm::unwrap(module));
    codegen->passes.run(*llvm::unwrap(module));
    return LLVMCreateMemoryBufferWithMemoryRangeCopy(
        codegen->object.data(), codegen->object.size(), "leones-object");
}

void leones_codegen_dispose(LeonesCodegen *codegen) { delete codegen; }

}  // extern "C"
