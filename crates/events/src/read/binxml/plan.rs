//! Plans: a record's fields as a function of its substitution values.
//!
//! Records made from the same templates, whose values are alike where it matters (the same
//! ones NullType, empty, numbers...; see `Decoder::scan`), build trees that differ only in
//! their values' text, so rendering them walks the same path and fills the same fields in
//! the same order. The first record of a shape is built and rendered in full, and the
//! fields it fills are recorded: each as its name and where its value comes from (a
//! literal, a value, or text joining both). Every later record of that shape costs decoding
//! its values and filling the recorded fields from them.
//!
//! Templates are known by their content, not by their place in a chunk (see
//! `Decoder::template_id`): every chunk of every file carries its own copy of the templates
//! it uses, and most logs share them, so plans are kept per thread, across chunks and files.
//!
//! What the recording cannot capture, it refuses (`Render::plannable`): a `Data` element
//! named by a value's text, whose name is then no longer the recording's. Records the fast
//! path gives up on (see `sink`) get no plan either.

use super::names::IntHasher;
use super::values::{Res, Val};
use crate::model::{FieldName, Fields, Value};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// Where a field's value comes from.
#[derive(Clone, Debug)]
pub(super) enum Recipe {
    Const(Value),
    /// The record's value number `n`, as a field (numbers stay numbers).
    Slot(u32),
    /// Text joining literal text and values' text.
    Join(Vec<Part>),
}

#[derive(Clone, Debug)]
pub(super) enum Part {
    Text(Box<str>),
    Slot(u32),
}

/// One field as the recording filled it.
#[derive(Debug)]
pub(super) struct Push {
    pub system: bool,
    pub name: FieldName,
    /// Whether the name was not among the fields yet (else the value joins it in an array).
    pub new: bool,
    /// One value, or the items of an array.
    pub value: Filling,
}

#[derive(Debug)]
pub(super) enum Filling {
    One(Recipe),
    Array(Vec<Recipe>),
}

pub(super) struct Plan {
    pushes: Vec<Push>,
    /// How many of the pushes go to the System fields, to size them.
    system: usize,
}

/// Most templates and plans a thread keeps: past them (only crafted files have that many
/// shapes) both are forgotten before the next chunk, and plans are recorded anew.
const MAX_TEMPLATES: usize = 1 << 12;
const MAX_PLANS: usize = 1 << 14;

/// This thread's templates (their content, see `Decoder::template_id`, by the number plans
/// know them by) and plans by record shape, `None` for a shape that cannot have one.
#[derive(Default)]
struct Shared {
    templates: HashMap<Vec<u8>, u32, BuildHasherDefault<IntHasher>>,
    plans: HashMap<Vec<u8>, Option<Plan>, BuildHasherDefault<IntHasher>>,
}

thread_local! {
    static SHARED: std::cell::RefCell<Shared> = std::cell::RefCell::default();
}

/// Called before each chunk: the numbers `template_id` gives stay valid within one chunk.
pub(super) fn start_chunk() {
    SHARED.with(|s| {
        let mut s = s.borrow_mut();
        if s.templates.len() > MAX_TEMPLATES || s.plans.len() > MAX_PLANS {
            *s = Shared::default();
        }
    });
}

/// The number of a template with this content.
pub(super) fn template_id(content: Vec<u8>) -> u32 {
    SHARED.with(|s| {
        let templates = &mut s.borrow_mut().templates;
        let next = templates.len() as u32;
        *templates.entry(content).or_insert(next)
    })
}

pub(super) enum Lookup<T> {
    /// What `fill` made of the shape's plan.
    Filled(T),
    /// The shape is known to have no plan.
    Never,
    Unknown,
}

/// Runs `fill` on the plan for records of shape `sig`, if there is one.
pub(super) fn with_plan<T>(sig: &[u8], fill: impl FnOnce(&Plan) -> T) -> Lookup<T> {
    SHARED.with(|s| match s.borrow().plans.get(sig) {
        Some(Some(plan)) => Lookup::Filled(fill(plan)),
        Some(None) => Lookup::Never,
        None => Lookup::Unknown,
    })
}

pub(super) fn insert(sig: Vec<u8>, plan: Option<Plan>) {
    SHARED.with(|s| {
        s.borrow_mut().plans.insert(sig, plan);
    });
}

impl Plan {
    pub fn new(pushes: Vec<Push>) -> Self {
        let system = pushes.iter().filter(|p| p.system).count();
        Plan { pushes, system }
    }

    /// The System fields and the event's fields of a record whose values are `flat`.
    pub fn fill(&self, flat: &[Val], data: &[u8], pool: &str, buf: &mut String) -> Res<(Fields, Fields)> {
        let mut sys = Fields::with_capacity(self.system);
        let mut fields = Fields::with_capacity(self.pushes.len() - self.system);
        for p in &self.pushes {
            let value = match &p.value {
                Filling::One(r) => eval(r, flat, data, pool, buf)?,
                Filling::Array(items) => Value::Array(items.iter().map(|r| eval(r, flat, data, pool, buf)).collect::<Res<_>>()?),
            };
            let to = if p.system { &mut sys } else { &mut fields };
            if p.new { to.push_new(p.name, value) } else { to.push(p.name, value) }
        }
        Ok((sys, fields))
    }
}

fn eval(r: &Recipe, flat: &[Val], data: &[u8], pool: &str, buf: &mut String) -> Res<Value> {
    let slot = |n: u32| flat.get(n as usize).ok_or_else(|| "plan refers to a missing value".to_string());
    Ok(match r {
        Recipe::Const(v) => v.clone(),
        Recipe::Slot(n) => slot(*n)?.to_value(data, pool, buf)?,
        Recipe::Join(parts) => {
            buf.clear();
            for part in parts {
                match part {
                    Part::Text(t) => buf.push_str(t),
                    Part::Slot(n) => slot(*n)?.render(data, pool, buf)?,
                }
            }
            Value::Str(Box::from(buf.as_str()))
        }
    })
}
