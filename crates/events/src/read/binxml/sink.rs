//! Where the members `render` walks go.
//!
//! [`FlatSink`] is the fast path: it applies `evtx_json::flatten_into`'s naming as the
//! members stream past (`Provider_Name`, `EventID_Qualifiers`, `Data` names...) and fills
//! an event's fields directly. Two shapes of document it cannot stream exactly, so it gives
//! up on them ([`FlatSink::gave_up`]) and the record is rendered again into [`JsonSink`],
//! which builds the very `serde_json` document the evtx crate's JSON parses to and hands it
//! to `evtx_json::event_from_dump`:
//! - a key twice in one object (JSON keeps the last value, in the first one's place);
//! - an object inside an array (the field keeps that object as JSON text);
//!
//! and it gives up too when an event's parts (`EventData`, `UserData`,
//! `ProcessingErrorData`) are not in that order, which `event_from_dump` reads them in.

use super::names::{Names, composite, suffixed};
use super::plan::{Filling, Push, Recipe};
use super::render::{Key, Sink};
use super::values::Res;
use crate::model::{FieldName, Fields, Value};
use crate::read::evtx_json::known;
use serde_json::{Map, Value as Json};
use std::collections::HashSet;

const GAVE_UP: &str = "(the fast path gave up on this record)";

#[derive(Clone, Copy)]
enum Frame {
    Doc,
    Event,
    /// An object being flattened into the System fields (`sys`) or the event's fields, whose
    /// members' names are prefixed with `parent` only for attributes and `#text`.
    Flat {
        sys: bool,
        parent: Option<FieldName>,
    },
    /// `#attributes` of an object being flattened.
    Attrs {
        sys: bool,
        parent: Option<FieldName>,
    },
    /// An array whose items go to `name`.
    Array {
        sys: bool,
        name: FieldName,
    },
    /// What the event does not keep: other members of `Event` (`RenderingInfo`...).
    Ignore,
}

pub(super) struct FlatSink {
    pub sys: Fields,
    pub fields: Fields,
    frames: Vec<OpenFrame>,
    /// Keys seen in the open objects, to notice one twice; each frame notes where its start.
    keys: Vec<u32>,
    items: Vec<Value>,
    /// While recording a plan: the fields filled so far, and the recipes of `items`.
    pub pushes: Option<Vec<Push>>,
    item_recipes: Vec<Recipe>,
    /// The last part of the event seen (its index in `Known::parts`).
    part: Option<usize>,
    saw_event: bool,
    saw_system: bool,
    gave_up: bool,
}

/// An open object or array: what it is, where its keys start in `FlatSink::keys`, and, once it
/// has more keys than a scan is cheap for, a set of them (a crafted record can give one object
/// thousands of members, and a scan per key cost the square of that).
struct OpenFrame {
    frame: Frame,
    start: usize,
    #[allow(clippy::box_collection)] // rarely built; a pointer keeps every frame small
    set: Option<Box<HashSet<u32>>>,
}

impl OpenFrame {
    fn new(frame: Frame, start: usize) -> Self {
        OpenFrame { frame, start, set: None }
    }
}

const SCAN_MAX: usize = 48;

/// Pseudo field-name ids for the two keys that are not names.
const ATTRS_KEY: u32 = u32::MAX;
const TEXT_KEY: u32 = u32::MAX - 1;

impl FlatSink {
    pub fn new(recording: bool) -> Self {
        FlatSink {
            pushes: recording.then(Vec::new),
            item_recipes: Vec::new(),
            sys: Fields::with_capacity(20),
            fields: Fields::with_capacity(24),
            frames: vec![OpenFrame::new(Frame::Doc, 0)],
            keys: Vec::new(),
            items: Vec::new(),
            part: None,
            saw_event: false,
            saw_system: false,
            gave_up: false,
        }
    }

    pub fn gave_up(&self) -> bool {
        self.gave_up
    }

    /// Whether the document was an event, as `event_from_dump` checks.
    pub fn finish(&self) -> Res<()> {
        if !self.saw_event {
            return Err("no \"Event\" object".into());
        }
        if !self.saw_system {
            return Err("no \"Event.System\" object".into());
        }
        Ok(())
    }

    fn give_up<T>(&mut self) -> Res<T> {
        self.gave_up = true;
        Err(GAVE_UP.into())
    }

    fn top(&self) -> Frame {
        self.frames.last().map_or(Frame::Ignore, |f| f.frame)
    }

    fn push(&mut self, system: bool, name: FieldName, value: Value, filling: Option<Filling>) {
        let to = if system { &mut self.sys } else { &mut self.fields };
        if let (Some(pushes), Some(filling)) = (&mut self.pushes, filling) {
            pushes.push(Push { system, name, new: to.get(name).is_none(), value: filling });
        }
        to.push(name, value)
    }

    /// The field name of an element or `Data` key.
    fn field(names: &mut Names, key: Key) -> Res<FieldName> {
        match key {
            Key::Elem(off, suffix) => {
                let field = names.at(off)?.field;
                Ok(suffixed(field, suffix))
            }
            Key::Data(field, suffix) => Ok(suffixed(field, suffix)),
            _ => Err("key has no name".into()),
        }
    }

    /// Notes a key of the innermost object; a key it already has gives up.
    fn note(&mut self, id: u32) -> Res<()> {
        let Some(open) = self.frames.last_mut() else {
            // Past the document's end: nothing open, so every key counts, as before any object.
            if self.keys.contains(&id) {
                return self.give_up();
            }
            self.keys.push(id);
            return Ok(());
        };
        let seen = match &mut open.set {
            Some(set) => !set.insert(id),
            None => {
                let mine = &self.keys[open.start..];
                if mine.contains(&id) {
                    true
                } else {
                    if mine.len() >= SCAN_MAX {
                        let mut set: HashSet<u32> = mine.iter().copied().collect();
                        set.insert(id);
                        open.set = Some(Box::new(set));
                    }
                    false
                }
            }
        };
        if seen {
            return self.give_up();
        }
        self.keys.push(id);
        Ok(())
    }

    fn open(&mut self, frame: Frame) {
        self.frames.push(OpenFrame::new(frame, self.keys.len()));
    }

    /// An `Event` member named `key`: which part it is, checking that parts come in order.
    fn event_member(&mut self, names: &mut Names, key: Key) -> Res<Option<usize>> {
        let Key::Elem(off, 0) = key else { return Ok(None) };
        let field = names.at(off)?.field;
        let k = known();
        if field == k.system {
            return Ok(Some(usize::MAX));
        }
        let Some(part) = k.parts.iter().position(|p| *p == field) else { return Ok(None) };
        if self.part.is_some_and(|last| last > part) {
            return self.give_up();
        }
        self.part = Some(part);
        Ok(Some(part))
    }
}

impl Sink for FlatSink {
    fn leaf(&mut self, names: &mut Names, key: Key, value: Value, recipe: Option<Recipe>) -> Res<()> {
        let filling = recipe.map(Filling::One);
        match self.top() {
            Frame::Doc => {}
            Frame::Event => match self.event_member(names, key)? {
                Some(usize::MAX) => {}
                Some(part) if !value.is_null() => self.push(false, known().parts[part], value, filling),
                _ => {}
            },
            Frame::Flat { sys, parent } => {
                let (id, name) = match key {
                    Key::Text => (TEXT_KEY, parent.unwrap_or(known().data)),
                    _ => {
                        let f = Self::field(names, key)?;
                        (f.id(), f)
                    }
                };
                self.note(id)?;
                self.push(sys, name, value, filling);
            }
            Frame::Attrs { sys, parent } => {
                let Key::Attr(off) = key else { return Err("attribute key expected".into()) };
                let attr = names.at(off)?;
                let (field, xmlns) = (attr.field, attr.xmlns);
                self.note(field.id())?;
                if !xmlns {
                    let name = match parent {
                        Some(p) => composite(p, field),
                        None => field,
                    };
                    self.push(sys, name, value, filling);
                }
            }
            Frame::Array { .. } => {
                self.items.push(value);
                if let Some(Filling::One(r)) = filling {
                    self.item_recipes.push(r);
                }
            }
            Frame::Ignore => {}
        }
        Ok(())
    }

    fn begin_object(&mut self, names: &mut Names, key: Key) -> Res<()> {
        let frame = match self.top() {
            Frame::Doc => match key {
                Key::Elem(off, 0) if names.at(off)?.field == known().event => {
                    self.saw_event = true;
                    Frame::Event
                }
                _ => Frame::Ignore,
            },
            Frame::Event => match self.event_member(names, key)? {
                Some(usize::MAX) => {
                    self.saw_system = true;
                    Frame::Flat { sys: true, parent: None }
                }
                Some(part) => Frame::Flat { sys: false, parent: Some(known().parts[part]) },
                None => Frame::Ignore,
            },
            Frame::Flat { sys, parent } => match key {
                Key::Attrs => {
                    self.note(ATTRS_KEY)?;
                    Frame::Attrs { sys, parent }
                }
                _ => {
                    let f = Self::field(names, key)?;
                    self.note(f.id())?;
                    Frame::Flat { sys, parent: Some(f) }
                }
            },
            // An object in an array becomes its JSON text in the field.
            Frame::Array { .. } => return self.give_up(),
            Frame::Attrs { .. } | Frame::Ignore => Frame::Ignore,
        };
        self.open(frame);
        Ok(())
    }

    fn end_object(&mut self) -> Res<()> {
        let open = self.frames.pop().ok_or("object end without a start")?;
        self.keys.truncate(open.start);
        Ok(())
    }

    fn begin_array(&mut self, names: &mut Names, key: Key) -> Res<()> {
        let frame = match self.top() {
            Frame::Flat { sys, parent } => {
                let (id, name) = match key {
                    Key::Text => (TEXT_KEY, parent.unwrap_or(known().data)),
                    _ => {
                        let f = Self::field(names, key)?;
                        (f.id(), f)
                    }
                };
                self.note(id)?;
                self.items.clear();
                self.item_recipes.clear();
                Frame::Array { sys, name }
            }
            Frame::Ignore => Frame::Ignore,
            // Arrays only hold Data values, which only containers have.
            _ => return self.give_up(),
        };
        self.open(frame);
        Ok(())
    }

    fn end_array(&mut self) -> Res<()> {
        let OpenFrame { frame, start, .. } = self.frames.pop().ok_or("array end without a start")?;
        self.keys.truncate(start);
        if let Frame::Array { sys, name } = frame {
            let items = std::mem::take(&mut self.items);
            let recipes = std::mem::take(&mut self.item_recipes);
            let filling = self.pushes.is_some().then_some(Filling::Array(recipes));
            self.push(sys, name, Value::Array(items), filling);
        }
        Ok(())
    }
}

/// Builds the JSON document itself, for the records `FlatSink` gives up on.
pub(super) struct JsonSink {
    /// Open objects and arrays with the key each goes under in its parent.
    stack: Vec<(Json, Option<String>)>,
}

impl JsonSink {
    pub fn new() -> Self {
        JsonSink { stack: vec![(Json::Object(Map::new()), None)] }
    }

    pub fn document(mut self) -> Res<Json> {
        match self.stack.pop() {
            Some((doc, None)) if self.stack.is_empty() => Ok(doc),
            _ => Err("unbalanced document".into()),
        }
    }

    fn key_text(names: &mut Names, key: Key) -> Res<Option<String>> {
        let checked = |names: &mut Names, off: u32| -> Res<String> { Ok(names.at(off)?.text.to_string()) };
        let with_suffix = |text: String, suffix: u32| if suffix == 0 { text } else { format!("{text}_{suffix}") };
        Ok(Some(match key {
            Key::Elem(off, suffix) => with_suffix(checked(names, off)?, suffix),
            Key::Data(field, suffix) => with_suffix(field.as_str().to_string(), suffix),
            Key::Attr(off) => checked(names, off)?,
            Key::Attrs => "#attributes".into(),
            Key::Text => "#text".into(),
            Key::Item => return Ok(None),
        }))
    }

    fn add(&mut self, key: Option<String>, value: Json) -> Res<()> {
        match (self.stack.last_mut(), key) {
            // A key already there keeps its place and takes the new value, as serde_json's
            // order-preserving map does when it parses the same key twice.
            (Some((Json::Object(map), _)), Some(k)) => {
                map.insert(k, value);
            }
            (Some((Json::Array(items), _)), None) => items.push(value),
            _ => return Err("member outside of an object or array".into()),
        }
        Ok(())
    }
}

fn json(v: Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(b),
        Value::Int(i) => Json::from(i),
        Value::UInt(u) => Json::from(u),
        Value::Float(f) => Json::from(f),
        Value::Str(s) => Json::String(s.into()),
        Value::Array(items) => Json::Array(items.into_iter().map(json).collect()),
    }
}

impl Sink for JsonSink {
    fn leaf(&mut self, names: &mut Names, key: Key, value: Value, _: Option<Recipe>) -> Res<()> {
        let k = Self::key_text(names, key)?;
        self.add(k, json(value))
    }

    fn begin_object(&mut self, names: &mut Names, key: Key) -> Res<()> {
        let k = Self::key_text(names, key)?;
        self.stack.push((Json::Object(Map::new()), k));
        Ok(())
    }

    fn end_object(&mut self) -> Res<()> {
        let (value, key) = self.stack.pop().ok_or("object end without a start")?;
        self.add(key, value)
    }

    fn begin_array(&mut self, names: &mut Names, key: Key) -> Res<()> {
        let k = Self::key_text(names, key)?;
        self.stack.push((Json::Array(Vec::new()), k));
        Ok(())
    }

    fn end_array(&mut self) -> Res<()> {
        self.end_object()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key twice in one object makes the fast path give up, however many keys came between
    /// (past `SCAN_MAX` they are looked up in a set); the same key in a nested object does not.
    #[test]
    fn a_repeated_key_gives_up_past_the_scan_too() {
        let mut sink = FlatSink::new(false);
        sink.open(Frame::Flat { sys: false, parent: None });
        for id in 0..(SCAN_MAX as u32 * 3) {
            assert!(sink.note(id).is_ok(), "key {id} is new");
        }
        assert!(sink.frames.last().is_some_and(|f| f.set.is_some()));
        sink.open(Frame::Flat { sys: false, parent: None });
        assert!(sink.note(5).is_ok(), "a nested object has keys of its own");
        sink.end_object().unwrap();
        assert!(sink.note(SCAN_MAX as u32 * 3).is_ok());
        assert!(!sink.gave_up());
        assert!(sink.note(5).is_err());
        assert!(sink.gave_up());
    }
}
