//! Instructions: the ops of the IR, by family, and their static properties.
//!
//! Every instruction is an [`Inst`]: an optional result [`Value`] and an [`Op`]. Ops
//! carry their operands inline (values, descriptor ids, immediates). The families:
//!
//! | family | ops |
//! |---|---|
//! | constants | `const` with a typed literal |
//! | int arithmetic | `iadd isub imul idiv irem` (wrapping), `iadd_ovf isub_ovf imul_ovf` (paired with `guard_no_overflow`), `ineg` |
//! | bitwise | `iand ior ixor ishl ishr iushr inot` |
//! | comparisons | `ieq ine ilt ile igt ige iult iule iugt iuge`, `feq fne flt fle fgt fge`, `req rne` (ref or ptr identity) |
//! | float | `fadd fsub fmul fdiv fneg fabs` |
//! | bool | `band bor bxor bnot` |
//! | conversions | `i2f f2i b2i f2bits bits2f ptr2i i2ptr`, `ptradd` |
//! | select | `select` (optionally `unpredictable`) |
//! | objects | `new getfield setfield getitem setitem arraylen` |
//! | raw memory | `load.T store.T` at a constant offset from a `ptr` |
//! | calls | `call` through a [`CallDescr`](crate::CallDescr) |
//! | guards | `guard_true guard_false guard_value guard_class guard_nonnull guard_isnull guard_no_overflow guard_no_exception guard_no_interrupt` |
//! | control | `jump` (back edge or to another unit), `goto` (forward edge), `br`, `finish` |
//!
//! Semantics worth stating once (the reference interpreter implements exactly these):
//! integer ops wrap; `idiv`/`irem` truncate toward zero, fault on a zero divisor, and
//! `i64::MIN / -1` wraps to `i64::MIN` (remainder 0); shift amounts are taken mod 64;
//! `f2i` saturates (NaN becomes 0), like Rust's `as`.

use crate::entity::{ArrayId, Block, CallId, FieldId, LayoutId, SnapshotId, TargetId, Value};
use crate::types::{MemType, Type};
use std::fmt;

/// A typed constant.
#[derive(Copy, Clone, Debug)]
pub enum Const {
    I64(i64),
    F64(f64),
    Bool(bool),
    /// A host object address (0 is null).
    Ref(u64),
    /// A raw address.
    Ptr(u64),
}

impl Const {
    /// The constant's type.
    pub fn ty(self) -> Type {
        match self {
            Const::I64(_) => Type::I64,
            Const::F64(_) => Type::F64,
            Const::Bool(_) => Type::Bool,
            Const::Ref(_) => Type::Ref,
            Const::Ptr(_) => Type::Ptr,
        }
    }
    /// The all-zero constant of a type: what a fresh object's fields hold.
    pub fn zero(ty: Type) -> Const {
        match ty {
            Type::I64 => Const::I64(0),
            Type::F64 => Const::F64(0.0),
            Type::Bool => Const::Bool(false),
            Type::Ref => Const::Ref(0),
            Type::Ptr => Const::Ptr(0),
        }
    }

    /// The raw 64-bit pattern (floats by their bits, bools as 0/1).
    pub fn bits(self) -> u64 {
        match self {
            Const::I64(v) => v as u64,
            Const::F64(v) => v.to_bits(),
            Const::Bool(b) => b as u64,
            Const::Ref(a) | Const::Ptr(a) => a,
        }
    }
}

/// Constants compare by type and bit pattern, so `NaN == NaN` and `0.0 != -0.0`: this is
/// the equality that value numbering and differential tests need.
impl PartialEq for Const {
    fn eq(&self, other: &Const) -> bool {
        self.ty() == other.ty() && self.bits() == other.bits()
    }
}
impl Eq for Const {}
impl std::hash::Hash for Const {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.ty().hash(state);
        self.bits().hash(state);
    }
}

/// Prints the constant as a text-format literal: `5`, `-2.5`, `1e300`, `inf`,
/// `nan(0x7ff8000000000000)`, `true`, `null`, `ref(0x10)`, `ptr(0x10)`.
impl fmt::Display for Const {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Const::I64(v) => write!(f, "{v}"),
            Const::F64(v) if v.is_nan() => write!(f, "nan(0x{:x})", v.to_bits()),
            // `{:?}` always marks a float as one: `1.0`, `1e300`, `inf`.
            Const::F64(v) => write!(f, "{v:?}"),
            Const::Bool(b) => write!(f, "{b}"),
            Const::Ref(0) => write!(f, "null"),
            Const::Ref(a) => write!(f, "ref(0x{a:x})"),
            Const::Ptr(a) => write!(f, "ptr(0x{a:x})"),
        }
    }
}

/// One-operand ops.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    INeg,
    INot,
    FNeg,
    FAbs,
    BNot,
    /// i64 → f64 (signed).
    I2F,
    /// f64 → i64, truncating and saturating; NaN → 0.
    F2I,
    /// bool → i64 (0 or 1).
    B2I,
    /// f64 → i64 bit pattern.
    F2Bits,
    /// i64 bit pattern → f64.
    Bits2F,
    /// ptr → i64.
    Ptr2I,
    /// i64 → ptr.
    I2Ptr,
    /// ref → i64 (the object's address; hosts with a non-moving heap store references
    /// in untyped 64-bit words, e.g. a tagged value's payload).
    Ref2I,
    /// i64 → ref (the inverse of `ref2i`; the word must hold an object's address or 0).
    I2Ref,
}

impl UnaryOp {
    /// All unary ops.
    pub const ALL: [UnaryOp; 14] = [
        UnaryOp::INeg,
        UnaryOp::INot,
        UnaryOp::FNeg,
        UnaryOp::FAbs,
        UnaryOp::BNot,
        UnaryOp::I2F,
        UnaryOp::F2I,
        UnaryOp::B2I,
        UnaryOp::F2Bits,
        UnaryOp::Bits2F,
        UnaryOp::Ptr2I,
        UnaryOp::I2Ptr,
        UnaryOp::Ref2I,
        UnaryOp::I2Ref,
    ];
    /// Text mnemonic.
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::INeg => "ineg",
            UnaryOp::INot => "inot",
            UnaryOp::FNeg => "fneg",
            UnaryOp::FAbs => "fabs",
            UnaryOp::BNot => "bnot",
            UnaryOp::I2F => "i2f",
            UnaryOp::F2I => "f2i",
            UnaryOp::B2I => "b2i",
            UnaryOp::F2Bits => "f2bits",
            UnaryOp::Bits2F => "bits2f",
            UnaryOp::Ptr2I => "ptr2i",
            UnaryOp::I2Ptr => "i2ptr",
            UnaryOp::Ref2I => "ref2i",
            UnaryOp::I2Ref => "i2ref",
        }
    }
    /// (operand type, result type).
    pub fn signature(self) -> (Type, Type) {
        use Type::*;
        match self {
            UnaryOp::INeg | UnaryOp::INot => (I64, I64),
            UnaryOp::FNeg | UnaryOp::FAbs => (F64, F64),
            UnaryOp::BNot => (Bool, Bool),
            UnaryOp::I2F => (I64, F64),
            UnaryOp::F2I => (F64, I64),
            UnaryOp::B2I => (Bool, I64),
            UnaryOp::F2Bits => (F64, I64),
            UnaryOp::Bits2F => (I64, F64),
            UnaryOp::Ptr2I => (Ptr, I64),
            UnaryOp::I2Ptr => (I64, Ptr),
            UnaryOp::Ref2I => (Ref, I64),
            UnaryOp::I2Ref => (I64, Ref),
        }
    }
}

/// Two-operand ops.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    IAdd,
    ISub,
    IMul,
    IDiv,
    IRem,
    IAddOvf,
    ISubOvf,
    IMulOvf,
    IAnd,
    IOr,
    IXor,
    IShl,
    IShr,
    IUShr,
    IEq,
    INe,
    ILt,
    ILe,
    IGt,
    IGe,
    IULt,
    IULe,
    IUGt,
    IUGe,
    FAdd,
    FSub,
    FMul,
    FDiv,
    FEq,
    FNe,
    FLt,
    FLe,
    FGt,
    FGe,
    BAnd,
    BOr,
    BXor,
    /// Identity of two refs or two ptrs.
    REq,
    RNe,
    /// ptr + i64 → ptr.
    PtrAdd,
}

impl BinaryOp {
    /// All binary ops.
    pub const ALL: [BinaryOp; 40] = {
        use BinaryOp::*;
        [
            IAdd, ISub, IMul, IDiv, IRem, IAddOvf, ISubOvf, IMulOvf, IAnd, IOr, IXor, IShl, IShr, IUShr, IEq, INe, ILt,
            ILe, IGt, IGe, IULt, IULe, IUGt, IUGe, FAdd, FSub, FMul, FDiv, FEq, FNe, FLt, FLe, FGt, FGe, BAnd, BOr,
            BXor, REq, RNe, PtrAdd,
        ]
    };
    /// Text mnemonic.
    pub fn name(self) -> &'static str {
        use BinaryOp::*;
        match self {
            IAdd => "iadd",
            ISub => "isub",
            IMul => "imul",
            IDiv => "idiv",
            IRem => "irem",
            IAddOvf => "iadd_ovf",
            ISubOvf => "isub_ovf",
            IMulOvf => "imul_ovf",
            IAnd => "iand",
            IOr => "ior",
            IXor => "ixor",
            IShl => "ishl",
            IShr => "ishr",
            IUShr => "iushr",
            IEq => "ieq",
            INe => "ine",
            ILt => "ilt",
            ILe => "ile",
            IGt => "igt",
            IGe => "ige",
            IULt => "iult",
            IULe => "iule",
            IUGt => "iugt",
            IUGe => "iuge",
            FAdd => "fadd",
            FSub => "fsub",
            FMul => "fmul",
            FDiv => "fdiv",
            FEq => "feq",
            FNe => "fne",
            FLt => "flt",
            FLe => "fle",
            FGt => "fgt",
            FGe => "fge",
            BAnd => "band",
            BOr => "bor",
            BXor => "bxor",
            REq => "req",
            RNe => "rne",
            PtrAdd => "ptradd",
        }
    }
    /// Operand types and result type. `req`/`rne` accept two refs or two ptrs; this
    /// returns the `ref` form and the verifier allows both.
    pub fn signature(self) -> (Type, Type, Type) {
        use BinaryOp::*;
        use Type::*;
        match self {
            IAdd | ISub | IMul | IDiv | IRem | IAddOvf | ISubOvf | IMulOvf | IAnd | IOr | IXor | IShl | IShr
            | IUShr => (I64, I64, I64),
            IEq | INe | ILt | ILe | IGt | IGe | IULt | IULe | IUGt | IUGe => (I64, I64, Bool),
            FAdd | FSub | FMul | FDiv => (F64, F64, F64),
            FEq | FNe | FLt | FLe | FGt | FGe => (F64, F64, Bool),
            BAnd | BOr | BXor => (Bool, Bool, Bool),
            REq | RNe => (Ref, Ref, Bool),
            PtrAdd => (Ptr, I64, Ptr),
        }
    }
    /// Whether this is an overflow-checked op (its result must be followed by a
    /// `guard_no_overflow` on it).
    pub fn is_ovf(self) -> bool {
        matches!(self, BinaryOp::IAddOvf | BinaryOp::ISubOvf | BinaryOp::IMulOvf)
    }
    /// Whether `a op b == b op a`, bit for bit.
    ///
    /// `fadd` and `fmul` are not: when both operands are NaNs, the hardware returns the
    /// first one's payload, and NaN payloads are part of the semantics (the reference
    /// interpreter, the optimizer and native code agree on every bit). `feq`/`fne`
    /// only compare, so they are.
    pub fn is_commutative(self) -> bool {
        use BinaryOp::*;
        matches!(
            self,
            IAdd | IMul | IAddOvf | IMulOvf | IAnd | IOr | IXor | IEq | INe | FEq | FNe | BAnd | BOr | BXor | REq | RNe
        )
    }
    /// Whether the op can fault at run time (division by zero).
    pub fn can_fault(self) -> bool {
        matches!(self, BinaryOp::IDiv | BinaryOp::IRem)
    }
}

/// What a guard checks. A guard whose check fails leaves the trace through its
/// snapshot.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum GuardKind {
    /// `guard_true c`: exits if `c` is false.
    True(Value),
    /// `guard_false c`: exits if `c` is true.
    False(Value),
    /// `guard_value v, K`: exits unless `v` equals the constant (bitwise).
    Value(Value, Const),
    /// `guard_class v, L`: exits unless the class word of object `v` is `L`'s class.
    Class(Value, LayoutId),
    /// `guard_nonnull v`.
    NonNull(Value),
    /// `guard_isnull v`.
    IsNull(Value),
    /// `guard_no_overflow v`: `v` is the result of the `*_ovf` op just before.
    NoOverflow(Value),
    /// `guard_no_exception`: the call just before did not raise.
    NoException,
    /// `guard_no_interrupt`: the host's interrupt flag is clear (placed at loop headers).
    NoInterrupt,
}

impl GuardKind {
    /// Text mnemonic.
    pub fn name(&self) -> &'static str {
        match self {
            GuardKind::True(_) => "guard_true",
            GuardKind::False(_) => "guard_false",
            GuardKind::Value(..) => "guard_value",
            GuardKind::Class(..) => "guard_class",
            GuardKind::NonNull(_) => "guard_nonnull",
            GuardKind::IsNull(_) => "guard_isnull",
            GuardKind::NoOverflow(_) => "guard_no_overflow",
            GuardKind::NoException => "guard_no_exception",
            GuardKind::NoInterrupt => "guard_no_interrupt",
        }
    }
    /// The value the guard inspects, if any.
    pub fn operand(&self) -> Option<Value> {
        match *self {
            GuardKind::True(v)
            | GuardKind::False(v)
            | GuardKind::Value(v, _)
            | GuardKind::Class(v, _)
            | GuardKind::NonNull(v)
            | GuardKind::IsNull(v)
            | GuardKind::NoOverflow(v) => Some(v),
            GuardKind::NoException | GuardKind::NoInterrupt => None,
        }
    }
    /// The value the guard inspects, mutably (to substitute it).
    pub fn operand_mut(&mut self) -> Option<&mut Value> {
        match self {
            GuardKind::True(v)
            | GuardKind::False(v)
            | GuardKind::Value(v, _)
            | GuardKind::Class(v, _)
            | GuardKind::NonNull(v)
            | GuardKind::IsNull(v)
            | GuardKind::NoOverflow(v) => Some(v),
            GuardKind::NoException | GuardKind::NoInterrupt => None,
        }
    }
}

/// A branch target with its block arguments.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BlockCall {
    pub block: Block,
    pub args: Vec<Value>,
}

/// Where a `jump` goes: a block of this trace (a loop back edge) or another unit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum JumpTarget {
    Block(Block),
    Unit(TargetId),
}

/// An operation. Operands are inline; see the module docs for the families.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `const K`.
    Const(Const),
    /// `ineg a`, `i2f a`, ...
    Unary(UnaryOp, Value),
    /// `iadd a, b`, `flt a, b`, ...
    Binary(BinaryOp, Value, Value),
    /// `select c, a, b` — `a` if `c` else `b`. `unpredictable` asks the backend to keep
    /// it branchless (set by branchless rewriting).
    Select {
        cond: Value,
        if_true: Value,
        if_false: Value,
        unpredictable: bool,
    },
    /// `new L`: allocate a zeroed object (class word set).
    New(LayoutId),
    /// `getfield obj, L.f`.
    GetField(Value, FieldId),
    /// `setfield obj, L.f, v`.
    SetField(Value, FieldId, Value),
    /// `getitem A, arr, i`.
    GetItem(ArrayId, Value, Value),
    /// `setitem A, arr, i, v`.
    SetItem(ArrayId, Value, Value, Value),
    /// `arraylen A, arr`.
    ArrayLen(ArrayId, Value),
    /// `load.T p, offset`.
    Load(MemType, Value, i64),
    /// `store.T p, offset, v`.
    Store(MemType, Value, i64, Value),
    /// `call C(args...)`.
    Call(CallId, Vec<Value>),
    /// A guard with the snapshot to resume from if it fails.
    Guard(GuardKind, SnapshotId),
    /// `merge_point [frames]`: a recorder annotation, no semantics. The snapshot names
    /// the host state here (frames, pcs, slot values) so that another recorded path
    /// reaching the same host location with a compatible state can rejoin this one;
    /// region formation (`leones_opt::region`) consumes merge points and the optimizer
    /// drops any that remain.
    MergePoint(SnapshotId),
    /// `jump block(args)` (a back edge to a loop header) or `jump @unit(args)`.
    Jump(JumpTarget, Vec<Value>),
    /// `goto block(args)`: a forward edge inside a region.
    Goto(BlockCall),
    /// `br c, then(args), else(args)`, with optional profile weights (taken, not
    /// taken) that later passes use to decide between branches, guards and selects.
    Br {
        cond: Value,
        then_: BlockCall,
        else_: BlockCall,
        weights: Option<(u32, u32)>,
    },
    /// `finish vs...`: leave the trace, returning values to the host.
    Finish(Vec<Value>),
}

impl Op {
    /// Whether this op ends a block.
    pub fn is_terminator(&self) -> bool {
        matches!(self, Op::Jump(..) | Op::Goto(_) | Op::Br { .. } | Op::Finish(_))
    }
    /// Whether this op is a guard.
    pub fn is_guard(&self) -> bool {
        matches!(self, Op::Guard(..))
    }
    /// The guard's (or merge point's) snapshot.
    pub fn snapshot(&self) -> Option<SnapshotId> {
        match self {
            Op::Guard(_, s) | Op::MergePoint(s) => Some(*s),
            _ => None,
        }
    }

    /// Calls `f` on every value operand (not snapshot uses), in order.
    pub fn for_each_arg(&self, mut f: impl FnMut(Value)) {
        match self {
            Op::Const(_) | Op::New(_) | Op::MergePoint(_) => {}
            Op::Unary(_, a) | Op::GetField(a, _) | Op::ArrayLen(_, a) | Op::Load(_, a, _) => f(*a),
            Op::Binary(_, a, b) | Op::SetField(a, _, b) | Op::GetItem(_, a, b) | Op::Store(_, a, _, b) => {
                f(*a);
                f(*b)
            }
            Op::Select {
                cond,
                if_true,
                if_false,
                ..
            } => {
                f(*cond);
                f(*if_true);
                f(*if_false)
            }
            Op::SetItem(_, a, i, v) => {
                f(*a);
                f(*i);
                f(*v)
            }
            Op::Call(_, args) | Op::Jump(_, args) | Op::Finish(args) => args.iter().copied().for_each(f),
            Op::Guard(kind, _) => {
                if let Some(v) = kind.operand() {
                    f(v)
                }
            }
            Op::Goto(bc) => bc.args.iter().copied().for_each(f),
            Op::Br { cond, then_, else_, .. } => {
                f(*cond);
                then_.args.iter().copied().for_each(&mut f);
                else_.args.iter().copied().for_each(f)
            }
        }
    }

    /// Calls `f` on a mutable reference to every value operand (not snapshot uses).
    /// Passes use it to substitute values.
    pub fn for_each_arg_mut(&mut self, mut f: impl FnMut(&mut Value)) {
        match self {
            Op::Const(_) | Op::New(_) | Op::MergePoint(_) => {}
            Op::Unary(_, a) | Op::GetField(a, _) | Op::ArrayLen(_, a) | Op::Load(_, a, _) => f(a),
            Op::Binary(_, a, b) | Op::SetField(a, _, b) | Op::GetItem(_, a, b) | Op::Store(_, a, _, b) => {
                f(a);
                f(b)
            }
            Op::Select {
                cond,
                if_true,
                if_false,
                ..
            } => {
                f(cond);
                f(if_true);
                f(if_false)
            }
            Op::SetItem(_, a, i, v) => {
                f(a);
                f(i);
                f(v)
            }
            Op::Call(_, args) | Op::Jump(_, args) | Op::Finish(args) => args.iter_mut().for_each(f),
            Op::Guard(kind, _) => {
                if let Some(v) = kind.operand_mut() {
                    f(v)
                }
            }
            Op::Goto(bc) => bc.args.iter_mut().for_each(f),
            Op::Br { cond, then_, else_, .. } => {
                f(cond);
                then_.args.iter_mut().for_each(&mut f);
                else_.args.iter_mut().for_each(f)
            }
        }
    }

    /// The operands as a vector (convenience for tests and simple passes).
    pub fn args(&self) -> Vec<Value> {
        let mut v = Vec::new();
        self.for_each_arg(|a| v.push(a));
        v
    }

    /// Whether the op has an effect beyond producing its result: writes memory, calls,
    /// may exit or fault, or transfers control. Dead-code elimination keeps these.
    /// (`new` and loads are removable when unused.)
    pub fn has_side_effect(&self) -> bool {
        match self {
            Op::SetField(..) | Op::SetItem(..) | Op::Store(..) | Op::Guard(..) => true,
            Op::Call(..) => true,
            Op::Binary(op, ..) => op.can_fault(),
            // Loads from arbitrary addresses may fault in the reference interpreter;
            // they are still removable, as a trace never relies on a fault happening.
            _ => self.is_terminator(),
        }
    }
}

/// One instruction: an op and the value it defines, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Inst {
    pub result: Option<Value>,
    pub op: Op,
}
