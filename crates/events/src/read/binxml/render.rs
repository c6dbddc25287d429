//! The JSON the evtx crate would write for a record tree, as a stream of members handed to a
//! [`Sink`], without writing any JSON.
//!
//! Which elements become objects, which become bare values, when empty becomes `null` and
//! when `""`, how `EventData`'s `Data` elements are named, numbered or gathered into arrays:
//! these rules decide every field of an event, so they follow the evtx crate's JSON writer
//! step by step (its `JsonCompiler::*_plain` functions), and the differential test holds
//! them to its output on the whole corpus.
//!
//! Two things deliberately differ, both only in damaged or crafted files. The evtx crate
//! writes element, attribute and entity names into its JSON unescaped, so a name with a
//! quote, backslash or control character makes it lose the record, or read `a\nb` back as a
//! line break; names here are kept as they are. And elements nested more than `MAX_DEPTH`
//! (256) deep fail their record here, where the crate goes to 512 (see `tree::MAX_DEPTH`).

use super::names::{IntMap, Names};
use super::plan::{Part, Recipe};
use super::tree::{Elem, MAX_DEPTH, NO_SRC, Node, Tree, has_elem};
use super::values::{Res, Val};
use crate::model::{FieldName, Value};

/// A member's key, resolved to text or a field name only by the sink that needs it.
#[derive(Clone, Copy, Debug)]
pub(super) enum Key {
    /// A child element: its name's index in `Names`, and which repeat of the name it is (the
    /// evtx crate keys the second `Foo` of an object `Foo_1`).
    Elem(u32, u32),
    /// A named `Data` element: its `Name`, and which repeat of it.
    Data(FieldName, u32),
    /// `#attributes`: an object of the element's attributes.
    Attrs,
    /// An attribute in `#attributes`, by its name's index in `Names`.
    Attr(u32),
    /// `#text`: the element's own text next to child elements or attributes.
    Text,
    /// An item of an array.
    Item,
}

/// Receives the members of the JSON document, in document order. A leaf's recipe (while
/// recording a plan) says where its value comes from.
pub(super) trait Sink {
    fn leaf(&mut self, names: &mut Names, key: Key, value: Value, recipe: Option<Recipe>) -> Res<()>;
    fn begin_object(&mut self, names: &mut Names, key: Key) -> Res<()>;
    fn end_object(&mut self) -> Res<()>;
    fn begin_array(&mut self, names: &mut Names, key: Key) -> Res<()>;
    fn end_array(&mut self) -> Res<()>;
}

/// Elements one record's rendering may visit. A record tree can place one element in many
/// places (a value used by several substitutions, the copies an array makes), so a crafted
/// record could otherwise cost exponentially more to walk than to build.
const MAX_VISITS: usize = 1 << 20;

pub(super) struct Render<'a> {
    pub data: &'a [u8],
    pub tree: &'a Tree,
    pub pool: &'a str,
    pub names: &'a mut Names,
    buf: String,
    depth: usize,
    visits: usize,
    /// Name counters of the objects being written, innermost last (see `Counts`): element
    /// names, and `Data` names.
    counts: [Vec<(FieldName, u32)>; 2],
    /// Whether to make a recipe for each value (see `plan`), and whether the record can
    /// have a plan as far as rendering knows.
    recording: bool,
    pub plannable: bool,
}

/// A value, and while recording where it comes from.
type Made = (Value, Option<Recipe>);

/// Counts the repeats of names in one object, to number them as the evtx crate does.
struct Counts {
    /// Which of `Render::counts`, and where this object's names start in it.
    list: usize,
    start: usize,
    /// Past this many names a map keeps the rest: a crafted element can have thousands of
    /// differently named children.
    many: Option<IntMap<FieldName, u32>>,
}

const COUNTS_LISTED: usize = 16;

impl<'a> Render<'a> {
    pub fn new(data: &'a [u8], tree: &'a Tree, pool: &'a str, names: &'a mut Names, recording: bool) -> Self {
        Render {
            data,
            tree,
            pool,
            names,
            buf: String::new(),
            depth: 0,
            visits: 0,
            counts: [Vec::new(), Vec::new()],
            recording,
            plannable: true,
        }
    }

    /// A value of one node: a literal's recipe is the value itself.
    fn made(&mut self, v: Val, src: u32) -> Res<Made> {
        let value = v.to_value(self.data, self.pool, &mut self.buf)?;
        let recipe = match self.recording {
            false => None,
            true if src == NO_SRC => Some(Recipe::Const(value.clone())),
            true => Some(Recipe::Slot(src)),
        };
        Ok((value, recipe))
    }

    fn constant(&self, value: Value) -> Made {
        let recipe = self.recording.then(|| Recipe::Const(value.clone()));
        (value, recipe)
    }

    /// The whole record: `{"<root name>": <root value>}`.
    pub fn document<S: Sink>(&mut self, root: u32, sink: &mut S) -> Res<()> {
        let e = *self.tree.elem(root)?;
        self.element_value(&e, false, Key::Elem(e.name, 0), sink)
    }

    fn visit(&mut self) -> Res<()> {
        self.visits += 1;
        if self.visits > MAX_VISITS {
            return Err(format!("record places more than {MAX_VISITS} elements"));
        }
        Ok(())
    }

    fn is_content(n: &Node) -> bool {
        match n {
            Node::Val(v, _) => !v.is_empty(),
            Node::CharRef(_) | Node::Entity(_) => true,
            Node::Elem(_) | Node::Pi | Node::Hole { .. } => false,
        }
    }

    fn has_content(nodes: &[Node]) -> bool {
        nodes.iter().any(Self::is_content)
    }

    /// `(has text, has child elements)`.
    fn layout(nodes: &[Node]) -> (bool, bool) {
        (Self::has_content(nodes), has_elem(nodes))
    }

    fn attrs_have_text(&self, e: &Elem) -> bool {
        let tree = self.tree;
        tree.attrs(e.attrs).iter().any(|a| Self::has_content(tree.nodes(a.value)))
    }

    /// An element that is one text or value and nothing else: that value, with nothing
    /// becoming `empty`.
    fn leaf(&mut self, e: &Elem, empty: fn() -> Value) -> Res<Option<Made>> {
        match *self.tree.nodes(e.children) {
            [Node::Val(v, _)] if v.is_empty() => Ok(Some(self.constant(empty()))),
            [Node::Val(v, src)] => self.made(v, src).map(Some),
            _ => Ok(None),
        }
    }

    /// Content is a bare number only when it is one numeric or boolean value; with
    /// `skip_elements` (an element's `#text` next to its children) elements and empty
    /// values do not count.
    fn number(&mut self, nodes: &[Node], skip_elements: bool) -> Res<Option<Made>> {
        let mut single = None;
        for n in nodes {
            match n {
                Node::Elem(_) if skip_elements => continue,
                Node::Elem(_) | Node::CharRef(_) | Node::Entity(_) => return Ok(None),
                Node::Val(v, _) if skip_elements && v.is_empty() => continue,
                Node::Pi if skip_elements => continue,
                Node::Hole { .. } => return Err("unfilled substitution".into()),
                _ if single.is_some() => return Ok(None),
                _ => single = Some(n),
            }
        }
        match single {
            Some(&Node::Val(v, src)) if v.is_bare() => self.made(v, src).map(Some),
            _ => Ok(None),
        }
    }

    /// Content as one value: a bare number, or all of its text.
    fn content(&mut self, nodes: &[Node], skip_elements: bool) -> Res<Made> {
        if let Some(made) = self.number(nodes, skip_elements)? {
            return Ok(made);
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let mut parts = self.recording.then(Vec::new);
        let done = self.text(nodes, skip_elements, &mut buf, parts.as_mut());
        let value = Value::Str(Box::from(buf.as_str()));
        self.buf = buf;
        done?;
        let recipe = match parts {
            Some(parts) if parts.iter().any(|p| matches!(p, Part::Slot(_))) => Some(Recipe::Join(parts)),
            Some(_) => Some(Recipe::Const(value.clone())),
            None => None,
        };
        Ok((value, recipe))
    }

    /// Appends the text of `nodes`; while recording, `parts` gets it as literal text and the
    /// values it comes from.
    fn text(&mut self, nodes: &[Node], skip_elements: bool, out: &mut String, mut parts: Option<&mut Vec<Part>>) -> Res<()> {
        let mut literal_from = out.len();
        for n in nodes {
            match *n {
                Node::Val(v, src) if src != NO_SRC && !v.is_empty() && parts.is_some() => {
                    if let Some(parts) = parts.as_deref_mut() {
                        if out.len() > literal_from {
                            parts.push(Part::Text(out[literal_from..].into()));
                        }
                        parts.push(Part::Slot(src));
                    }
                    v.render(self.data, self.pool, out)?;
                    literal_from = out.len();
                }
                Node::Val(v, _) => v.render(self.data, self.pool, out)?,
                // JSON shows the character itself; a lone surrogate as the reference.
                Node::CharRef(c) => match char::from_u32(c as u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push_str("&#");
                        out.push_str(&c.to_string());
                        out.push(';');
                    }
                },
                Node::Entity(name) => {
                    let name = self.names.at(name)?;
                    match &*name.text {
                        "quot" => out.push('"'),
                        "apos" => out.push('\''),
                        "amp" => out.push('&'),
                        "lt" => out.push('<'),
                        "gt" => out.push('>'),
                        other => {
                            out.push('&');
                            out.push_str(other);
                            out.push(';');
                        }
                    }
                }
                Node::Pi => {}
                Node::Elem(_) if skip_elements => {}
                Node::Elem(_) => return Err("element inside text".into()),
                Node::Hole { .. } => return Err("unfilled substitution".into()),
            }
        }
        if let Some(parts) = parts
            && out.len() > literal_from
        {
            parts.push(Part::Text(out[literal_from..].into()));
        }
        Ok(())
    }

    /// An element as a member of its parent: a bare value when it is one, else an object.
    fn element_value<S: Sink>(&mut self, e: &Elem, container: bool, key: Key, sink: &mut S) -> Res<()> {
        self.visit()?;
        if e.attrs.len == 0
            && let Some((v, r)) = self.leaf(e, || Value::Null)?
        {
            return sink.leaf(self.names, key, v, r);
        }
        let tree = self.tree;
        let children = tree.nodes(e.children);
        let (has_text, has_elems) = Self::layout(children);
        let attr_text = self.attrs_have_text(e);
        if !has_elems && !attr_text {
            let (v, r) = if has_text { self.content(children, false)? } else { self.constant(Value::Null) };
            return sink.leaf(self.names, key, v, r);
        }
        sink.begin_object(self.names, key)?;
        self.body(e, container, false, has_text, sink)?;
        sink.end_object()
    }

    /// A `Data` element's value: as `element_value`, but attributes never show and empty is
    /// `""` rather than `null`.
    fn data_value<S: Sink>(&mut self, id: u32, key: Key, sink: &mut S) -> Res<()> {
        let tree = self.tree;
        let e = *tree.elem(id)?;
        if let Some((v, r)) = self.leaf(&e, || Value::Str("".into()))? {
            return sink.leaf(self.names, key, v, r);
        }
        let children = tree.nodes(e.children);
        let (has_text, has_elems) = Self::layout(children);
        if has_elems {
            sink.begin_object(self.names, key)?;
            self.body(&e, false, true, has_text, sink)?;
            return sink.end_object();
        }
        let (v, r) = if has_text { self.content(children, false)? } else { self.constant(Value::Str("".into())) };
        sink.leaf(self.names, key, v, r)
    }

    /// The field name a `Data` element's `Name` attribute gives it, if it has a non-empty one.
    fn data_name(&mut self, e: &Elem) -> Res<Option<FieldName>> {
        let (data, tree) = (self.data, self.tree);
        for a in tree.attrs(e.attrs) {
            if !self.names.at(a.name)?.is_name {
                continue;
            }
            let nodes = tree.nodes(a.value);
            if !Self::has_content(nodes) {
                return Ok(None);
            }
            if nodes.iter().any(|n| matches!(n, Node::Val(_, src) if *src != NO_SRC)) {
                // Named by a value: a plan would name every record's field as this one's.
                self.plannable = false;
            }
            if let [Node::Val(Val::Str { off, units }, _)] = nodes {
                return self.names.string_at(data, *off, *units).map(Some);
            }
            let mut text = String::new();
            self.text(nodes, false, &mut text, None)?;
            return Ok(Some(super::names::intern(&text)));
        }
        Ok(None)
    }

    fn is_data(&mut self, node: &Node) -> Res<Option<Elem>> {
        let Node::Elem(id) = *node else { return Ok(None) };
        let e = *self.tree.elem(id)?;
        Ok(self.names.at(e.name)?.is_data.then_some(e))
    }

    /// The members of an element's object: `#attributes`, `#text`, then its children.
    /// `in_container` is `EventData` or `UserData`, whose `Data` children are named by their
    /// `Name` (when one of them has one) or gathered as `"Data": {"#text": [...]}`.
    fn body<S: Sink>(&mut self, e: &Elem, in_container: bool, omit_attrs: bool, has_text: bool, sink: &mut S) -> Res<()> {
        let tree = self.tree;
        let children = tree.nodes(e.children);
        if self.depth >= MAX_DEPTH && has_elem(children) {
            return Err("elements nested too deeply".into());
        }
        self.depth += 1;
        let mut named = false;
        if in_container {
            for n in children {
                if let Some(c) = self.is_data(n)?
                    && self.data_name(&c)?.is_some()
                {
                    named = true;
                    break;
                }
            }
        }
        if !omit_attrs && self.attrs_have_text(e) {
            sink.begin_object(self.names, Key::Attrs)?;
            for a in tree.attrs(e.attrs) {
                let nodes = tree.nodes(a.value);
                if Self::has_content(nodes) {
                    let (v, r) = self.content(nodes, false)?;
                    sink.leaf(self.names, Key::Attr(a.name), v, r)?;
                }
            }
            sink.end_object()?;
        }
        if has_text {
            let (v, r) = self.content(children, true)?;
            sink.leaf(self.names, Key::Text, v, r)?;
        }
        let mut positional = 0;
        if in_container && !named {
            for n in children {
                positional += usize::from(self.is_data(n)?.is_some());
            }
        }
        let mut elem_counts = Counts { list: 0, start: self.counts[0].len(), many: None };
        let mut data_counts = Counts { list: 1, start: self.counts[1].len(), many: None };
        let (mut skip, mut positional_done) = (0usize, false);
        for (i, n) in children.iter().enumerate() {
            let Node::Elem(id) = *n else { continue };
            self.visit()?;
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let c = *tree.elem(id)?;
            let name = self.names.at(c.name)?;
            let (is_data, is_container, field) = (name.is_data, name.is_container, name.field);
            if !(in_container && is_data) {
                let suffix = self.next_count(&mut elem_counts, field);
                self.element_value(&c, is_container, Key::Elem(c.name, suffix), sink)?;
            } else if named {
                let Some(name) = self.data_name(&c)? else { continue };
                // A run of Data elements with the same name (an array substitution makes one)
                // is one member whose value is an array.
                let mut run = 1;
                for next in &children[i + 1..] {
                    if !matches!(next, Node::Elem(_)) {
                        continue;
                    }
                    match self.is_data(next)? {
                        Some(d) if self.data_name(&d)? == Some(name) => run += 1,
                        _ => break,
                    }
                }
                skip = run - 1;
                let key = Key::Data(name, self.next_count(&mut data_counts, name));
                if run == 1 {
                    self.data_value(id, key, sink)?;
                } else {
                    sink.begin_array(self.names, key)?;
                    let items = children[i..].iter().filter_map(|n| match n {
                        Node::Elem(d) => Some(*d),
                        _ => None,
                    });
                    for item in items.take(run) {
                        self.data_value(item, Key::Item, sink)?;
                    }
                    sink.end_array()?;
                }
            } else if !positional_done && positional > 0 {
                positional_done = true;
                sink.begin_object(self.names, Key::Elem(c.name, 0))?;
                if positional == 1 {
                    self.data_value(id, Key::Text, sink)?;
                } else {
                    sink.begin_array(self.names, Key::Text)?;
                    for n in children {
                        if let (Some(_), Node::Elem(d)) = (self.is_data(n)?, *n) {
                            self.data_value(d, Key::Item, sink)?;
                        }
                    }
                    sink.end_array()?;
                }
                sink.end_object()?;
            }
        }
        self.counts[0].truncate(elem_counts.start);
        self.counts[1].truncate(data_counts.start);
        self.depth -= 1;
        Ok(())
    }

    /// 0 the first time `name` is seen in this object, then 1, 2, ...
    fn next_count(&mut self, counts: &mut Counts, name: FieldName) -> u32 {
        if let Some(map) = &mut counts.many
            && let Some(n) = map.get_mut(&name)
        {
            *n += 1;
            return *n - 1;
        }
        let list = &mut self.counts[counts.list];
        let listed = &mut list[counts.start..];
        if let Some((_, n)) = listed.iter_mut().find(|(f, _)| *f == name) {
            *n += 1;
            return *n - 1;
        }
        if listed.len() < COUNTS_LISTED {
            list.push((name, 1));
        } else {
            counts.many.get_or_insert_with(IntMap::default).insert(name, 1);
        }
        0
    }
}
