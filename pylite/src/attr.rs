//! # Attribute access with per-class shapes and inline caches
//!
//! Instances store attributes in fixed slots chosen per class (its shape), so an
//! attribute read is: compare the instance's class pointer with the one cached
//! in the instruction's [`AttrIc`], then load slot `index`. The dispatch loop
//! does that inline for `IC_SLOT`; everything else comes here, which first
//! tries the cache (properties, methods, class values, module members) and on a
//! miss does the full Python lookup and refills the cache:
//!
//! 1. a `property` on the class (data descriptor) wins;
//! 2. then the instance's own value (slot, or the `extra` side table);
//! 3. then class attributes: functions become methods (bound lazily — method
//!    calls via `LoadMethod`/`CallMethod` never allocate a bound method).
//!
//! Class-valued cache entries are tagged with the VM's class epoch, which is
//! bumped whenever a class attribute is assigned, so they can never go stale.
//! Classes are never freed (they are permanent roots), so a cached class
//! pointer can never be reused by another class.

use crate::bytecode::*;
use crate::error::ExcType;
use crate::object::*;
use crate::value::Value;
use crate::vm::Vm;
use std::cell::Cell;

/// Cache kind for module members (`class` holds the module pointer).
pub const IC_MODVAL: u8 = 5;

/// Result of a slow attribute read.
pub(crate) enum AttrOut {
    Value(Value),
    /// A property: call this getter with the object.
    Getter(Value),
}

impl Vm {
    fn fill(&self, ic: &Cell<AttrIc>, class: *mut ClassObj, kind: u8, index: u32, value: Value) {
        let mut c = ic.get();
        c.class = class;
        c.kind = kind;
        c.index = index;
        c.value = value;
        c.epoch = *self.class_epoch;
        ic.set(c);
    }

    fn attr_error(&mut self, obj: Value, name: Sym) -> Value {
        let n = self.interner.name(name).to_string();
        let msg = match obj.kind() {
            Some(Kind::Module) => format!(
                "module '{}' has no attribute '{}'",
                cast::<ModuleObj>(obj).unwrap().name,
                n
            ),
            Some(Kind::Class) => format!(
                "type object '{}' has no attribute '{}'",
                cast::<ClassObj>(obj).unwrap().name,
                n
            ),
            _ => format!("'{}' object has no attribute '{}'", self.type_name(obj), n),
        };
        self.err(ExcType::AttributeError, msg)
    }

    fn extra_get(obj: Value, name: Sym) -> Option<Value> {
        // SAFETY: obj is an instance (callers check).
        let inst = unsafe { cast_unchecked::<Instance>(obj) };
        if inst.extra.is_null() {
            return None;
        }
        // SAFETY: non-null extra is a live boxed Vec owned by the instance.
        unsafe { (*inst.extra).iter().find(|(k, _)| *k == name).map(|(_, v)| *v) }
    }

    fn module_get(obj: Value, name: Sym) -> Option<Value> {
        cast::<ModuleObj>(obj)
            .unwrap()
            .attrs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    }

    /// `obj.name` (slow path; the loop inlines `IC_SLOT` hits).
    pub(crate) fn get_attr(&mut self, obj: Value, ic: &Cell<AttrIc>) -> PyResult<AttrOut> {
        let c = ic.get();
        let name = c.name;
        match obj.kind() {
            Some(Kind::Instance) => {
                let cls = class_of(obj).unwrap();
                if cls == c.class && c.epoch == *self.class_epoch {
                    match c.kind {
                        IC_PROPERTY => return Ok(AttrOut::Getter(c.value)),
                        IC_CLASSVAL => return Ok(AttrOut::Value(c.value)),
                        _ => {}
                    }
                }
                // SAFETY: classes are permanent.
                let clsr = unsafe { &*cls };
                let attr = clsr.attrs.get(&name).copied();
                if let Some(p) = attr.and_then(cast::<PropertyObj>) {
                    let g = p.getter;
                    self.fill(ic, cls, IC_PROPERTY, 0, g);
                    return Ok(AttrOut::Getter(g));
                }
                if let Some(&i) = clsr.slot_index.get(&name) {
                    self.fill(ic, cls, IC_SLOT, i, Value::UNDEF);
                    let v = unsafe { *Instance::slot_ptr(obj.as_ptr(), i as usize) };
                    if !v.is_undef() {
                        return Ok(AttrOut::Value(v));
                    }
                }
                if let Some(v) = Self::extra_get(obj, name) {
                    return Ok(AttrOut::Value(v));
                }
                match attr {
                    Some(f) if f.is_kind(Kind::Function) => {
                        let p = self.heap.alloc(BoundMethodObj {
                            h: Header::new(Kind::BoundMethod),
                            func: f,
                            recv: obj,
                        });
                        Ok(AttrOut::Value(Value::obj(p)))
                    }
                    Some(v) => {
                        if !clsr.slot_index.contains_key(&name) {
                            self.fill(ic, cls, IC_CLASSVAL, 0, v);
                        }
                        Ok(AttrOut::Value(v))
                    }
                    None => Err(self.attr_error(obj, name)),
                }
            }
            Some(Kind::Module) => {
                if c.kind == IC_MODVAL && c.class as u64 == obj.payload {
                    return Ok(AttrOut::Value(c.value));
                }
                match Self::module_get(obj, name) {
                    Some(v) => {
                        self.fill(ic, obj.as_ptr(), IC_MODVAL, 0, v);
                        Ok(AttrOut::Value(v))
                    }
                    None => Err(self.attr_error(obj, name)),
                }
            }
            Some(Kind::Class) => {
                let cls = cast::<ClassObj>(obj).unwrap();
                if name == self.names.name {
                    let n = cls.name.clone();
                    return Ok(AttrOut::Value(self.new_string(n)));
                }
                match cls.attrs.get(&name).copied() {
                    Some(v) => Ok(AttrOut::Value(v)),
                    None => Err(self.attr_error(obj, name)),
                }
            }
            Some(k) => match self.type_methods.get(&(k, name)).copied() {
                Some(m) => {
                    let p = self.heap.alloc(BoundMethodObj {
                        h: Header::new(Kind::BoundMethod),
                        func: m,
                        recv: obj,
                    });
                    Ok(AttrOut::Value(Value::obj(p)))
                }
                None => Err(self.attr_error(obj, name)),
            },
            None => {
                self.check_bound(obj)?;
                Err(self.attr_error(obj, name))
            }
        }
    }

    /// `obj.name` where a property getter is run to completion (for native callers).
    pub(crate) fn get_attr_value(&mut self, obj: Value, ic: &Cell<AttrIc>) -> PyResult<Value> {
        match self.get_attr(obj, ic)? {
            AttrOut::Value(v) => Ok(v),
            AttrOut::Getter(g) => self.call_value(g, &[obj]),
        }
    }

    /// `obj.name = v`.
    pub(crate) fn set_attr(&mut self, obj: Value, ic: &Cell<AttrIc>, v: Value) -> PyResult<()> {
        self.check_bound(v)?;
        let name = ic.get().name;
        match obj.kind() {
            Some(Kind::Instance) => {
                let cls = class_of(obj).unwrap();
                // SAFETY: classes are permanent.
                let clsr = unsafe { &*cls };
                if let Some(a) = clsr.attrs.get(&name) {
                    if a.is_kind(Kind::Property) {
                        let n = self.interner.name(name).to_string();
                        let msg = format!("property '{}' of '{}' object has no setter", n, clsr.name);
                        return Err(self.err(ExcType::AttributeError, msg));
                    }
                }
                if let Some(&i) = clsr.slot_index.get(&name) {
                    self.fill(ic, cls, IC_SLOT, i, Value::UNDEF);
                    // SAFETY: i < nslots of this instance (its class's shape).
                    unsafe { *Instance::slot_ptr(obj.as_ptr(), i as usize) = v };
                    return Ok(());
                }
                // SAFETY: obj is an instance.
                let inst = unsafe { cast_unchecked::<Instance>(obj) };
                if inst.extra.is_null() {
                    inst.extra = Box::into_raw(Box::default());
                }
                // SAFETY: extra is a live boxed Vec owned by the instance.
                let extra = unsafe { &mut *inst.extra };
                match extra.iter_mut().find(|(k, _)| *k == name) {
                    Some(e) => e.1 = v,
                    None => extra.push((name, v)),
                }
                Ok(())
            }
            Some(Kind::Class) => {
                cast::<ClassObj>(obj).unwrap().attrs.insert(name, v);
                *self.class_epoch = self.class_epoch.wrapping_add(1);
                Ok(())
            }
            _ => {
                self.check_bound(obj)?;
                Err(self.attr_error(obj, name))
            }
        }
    }

    /// Method lookup for `obj.name(...)`: returns (callable, receiver or UNDEF).
    pub(crate) fn load_method(&mut self, obj: Value, ic: &Cell<AttrIc>) -> PyResult<(Value, Value)> {
        let c = ic.get();
        let name = c.name;
        match obj.kind() {
            Some(Kind::Instance) => {
                let cls = class_of(obj).unwrap();
                if cls == c.class && c.epoch == *self.class_epoch && c.kind == IC_METHOD {
                    return Ok((c.value, obj));
                }
                // SAFETY: classes are permanent.
                let clsr = unsafe { &*cls };
                let attr = clsr.attrs.get(&name).copied();
                if let Some(f) = attr {
                    if f.is_kind(Kind::Function)
                        && !clsr.slot_index.contains_key(&name)
                        && Self::extra_get(obj, name).is_none()
                    {
                        self.fill(ic, cls, IC_METHOD, 0, f);
                        return Ok((f, obj));
                    }
                }
                let v = self.get_attr_value(obj, ic)?;
                Ok((v, Value::UNDEF))
            }
            Some(Kind::Module) | Some(Kind::Class) => {
                let v = self.get_attr_value(obj, ic)?;
                Ok((v, Value::UNDEF))
            }
            Some(k) => match self.type_methods.get(&(k, name)).copied() {
                Some(m) => Ok((m, obj)),
                None => Err(self.attr_error(obj, name)),
            },
            None => {
                self.check_bound(obj)?;
                Err(self.attr_error(obj, name))
            }
        }
    }

    /// Creates a class from its compile-time description and optional base.
    pub(crate) fn make_class(&mut self, desc: usize, base: Value) -> PyResult<Value> {
        let base_cls: *mut ClassObj = if base.is_undef() {
            std::ptr::null_mut()
        } else {
            match cast::<ClassObj>(base) {
                Some(b) => b,
                None => {
                    let t = self.type_name(base);
                    return Err(self.err(
                        ExcType::TypeError,
                        format!("pylite classes can only inherit from classes, not '{}'", t),
                    ));
                }
            }
        };
        let d = &self.class_descs[desc];
        let (mut slot_names, attrs, flags) = if base_cls.is_null() {
            (Vec::new(), Default::default(), 0)
        } else {
            // SAFETY: classes are permanent.
            unsafe {
                (
                    (*base_cls).slot_names.clone(),
                    (*base_cls).attrs.clone(),
                    (*base_cls).flags,
                )
            }
        };
        for s in &d.slots {
            if !slot_names.contains(s) {
                slot_names.push(*s);
            }
        }
        let slot_index = slot_names.iter().enumerate().map(|(i, s)| (*s, i as u32)).collect();
        let cls = self.heap.alloc(ClassObj {
            h: Header::new(Kind::Class),
            nslots: slot_names.len() as u32,
            flags,
            base: base_cls,
            slot_names,
            slot_index,
            attrs,
            name: d.name.clone(),
        });
        let v = Value::obj(cls);
        self.permanent.push(v);
        Ok(v)
    }
}
