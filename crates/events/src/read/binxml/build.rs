//! Reading BinXML token streams (MS-EVEN6 2.2.3) into trees, and instantiating templates.
//!
//! A chunk's template definitions are parsed once, into `defs`, the first time a record uses
//! them. A record's stream is usually one template instance: its substitution values are
//! decoded, and the definition is copied into the record's tree with each hole replaced by
//! its value, as the evtx crate does before rendering, so that the JSON rules in `render`
//! apply to the same tree it renders.

use super::names::{IntMap, Names};
use super::tree::{Build, Elem, NO_SRC, Node, Scratch, Span, Tree};
use super::values::{Res, Val, decode_sized, decode_unsized, known_type, u16_at, u32_at};

/// Deepest nesting of BinXML values and template instances in one record (as the evtx
/// crate's limit), which bounds the recursion of building them.
const MAX_NESTING: usize = 64;

/// Most nodes one record may build: a template copies its elements for every instance, and
/// arrays and shared values multiply them, so a small crafted record could otherwise build
/// an exponentially large tree. Real records build a few hundred.
pub(super) const MAX_RECORD_NODES: usize = 1 << 18;

/// A substitution value as the holes of a template see it.
#[derive(Clone, Copy)]
enum Slot {
    /// A value, and its number among the record's values.
    Scalar(Val, u32),
    /// The top-level elements a BinXML value built, in `Decoder::roots`.
    Fragment(Span),
}

/// One chunk's decoding state. Template definitions and names persist for the chunk; the
/// record tree, scratch and text pool are reused from record to record.
pub(super) struct Decoder<'d> {
    pub data: &'d [u8],
    pub names: Names,
    pub defs: Tree,
    /// Definition offset → its root element in `defs`, or why it cannot be used.
    templates: IntMap<u32, Result<u32, String>>,
    /// Definition offset → the number plans know it by (see `template_id`).
    template_ids: IntMap<u32, Option<u32>>,
    pub rec: Tree,
    scratch: Scratch,
    /// Decoded ANSI text of the record's values.
    pub pool: String,
    /// Roots of the record's BinXML values, which `Slot::Fragment` spans index.
    roots: Vec<u32>,
    slots: Vec<Slot>,
    /// How many substitution values the record has decoded so far.
    seq: u32,
    /// The values `scan` decoded, and the record's shape.
    pub flat: Vec<Val>,
    pub sig: Vec<u8>,
    /// Scratch text for filling plans.
    pub buf: String,
    built: usize,
}

impl<'d> Decoder<'d> {
    pub fn new(data: &'d [u8]) -> Self {
        Decoder {
            data,
            names: Names::default(),
            defs: Tree::default(),
            templates: IntMap::default(),
            template_ids: IntMap::default(),
            rec: Tree::default(),
            scratch: Scratch::default(),
            pool: String::new(),
            roots: Vec::new(),
            slots: Vec::new(),
            seq: 0,
            flat: Vec::new(),
            sig: Vec::new(),
            buf: String::new(),
            built: 0,
        }
    }

    /// Builds the record whose BinXML is `data[off..off + len]` and returns its root element:
    /// the first top-level element, `None` when it has none.
    pub fn record(&mut self, off: usize, len: usize) -> Res<Option<u32>> {
        self.rec.clear();
        self.scratch.nodes.clear();
        self.scratch.attrs.clear();
        self.pool.clear();
        self.roots.clear();
        self.slots.clear();
        self.seq = 0;
        self.built = 0;
        Ok(self.walk(off, len, false, 0)?.first().copied())
    }

    /// Nodes built since the last call: what building the chunk's records has cost so far.
    pub fn take_built(&mut self) -> usize {
        std::mem::take(&mut self.built)
    }

    fn charge(&mut self, nodes: usize) -> Res<()> {
        self.built += nodes;
        if self.built > MAX_RECORD_NODES {
            return Err(format!("record builds more than {MAX_RECORD_NODES} nodes"));
        }
        Ok(())
    }

    /// A name reference: a chunk offset, followed by the name itself when this is where it
    /// is stored. Returns the name's index in `names` and where the stream goes on. The name
    /// is read even if nothing shows it (an attribute left empty, say), as the evtx crate
    /// reads every name a stream refers to and fails the record when one is unreadable.
    fn name_ref(&mut self, pos: usize) -> Res<(u32, usize)> {
        let off = u32_at(self.data, pos)?;
        let mut next = pos + 4;
        if off as usize == next {
            let units = u16_at(self.data, next + 6)? as usize;
            next += 8 + 2 * units + 2;
        }
        Ok((self.names.get(self.data, off)?, next))
    }

    /// Reads the token stream `data[off..off + len]` up to its end or EOF token. Template
    /// definitions (`def`) go into `defs`, with holes; records into `rec`.
    fn walk(&mut self, off: usize, len: usize, def: bool, depth: usize) -> Res<Vec<u32>> {
        if depth > MAX_NESTING {
            return Err("BinXML nested too deeply".into());
        }
        let end = off.saturating_add(len);
        let data = self.data;
        let mut build = Build::default();
        let mut pos = off;
        while pos < end {
            let token = *data.get(pos).ok_or("BinXML runs past the end of the chunk")?;
            pos += 1;
            match token {
                0x00 => break,
                0x01 | 0x41 => {
                    let dep = if def {
                        let d = u16_at(data, pos)?;
                        pos += 2;
                        (d != 0xffff).then_some(d)
                    } else {
                        None
                    };
                    // A 4-byte size, the name, and with attributes a 4-byte attribute list size.
                    let (name, next) = self.name_ref(pos + 4)?;
                    pos = next + if token == 0x41 { 4 } else { 0 };
                    build.open_start(name, dep, &self.scratch)?;
                }
                0x02 => {
                    let (tree, scratch) = self.target(def);
                    build.close_start(tree, scratch)?
                }
                0x03 => {
                    let (tree, scratch) = self.target(def);
                    build.close_empty(tree, scratch)?
                }
                0x04 => {
                    let (tree, scratch) = self.target(def);
                    build.end_element(tree, scratch)?
                }
                0x05 | 0x45 => {
                    let t = *data.get(pos).ok_or("value type past the end of the chunk")?;
                    if !known_type(t) {
                        return Err(format!("unknown value type {t:#04x} at offset {pos:#x}"));
                    }
                    let (v, used) = decode_unsized(t, data, pos + 1)?;
                    pos += 1 + used;
                    match v {
                        Val::BinXml { off, len } => self.fragment_value(&mut build, def, off, len, depth)?,
                        v => build.push(Node::Val(v, NO_SRC), &mut self.scratch)?,
                    }
                }
                0x06 | 0x46 => {
                    let (name, next) = self.name_ref(pos)?;
                    pos = next;
                    let (tree, scratch) = self.target(def);
                    build.attribute(name, tree, scratch)?;
                }
                0x07 | 0x47 => {
                    // CDATA: JSON shows it as text, so it is kept as a string value.
                    let units = u16_at(data, pos)? as usize;
                    let v = super::values::utf16_string(data, pos + 2, units, "CDATA")?;
                    pos += 2 + 2 * units;
                    build.push(Node::Val(v, NO_SRC), &mut self.scratch)?;
                }
                0x08 | 0x48 => {
                    let c = u16_at(data, pos)?;
                    pos += 2;
                    build.push(Node::CharRef(c), &mut self.scratch)?;
                }
                0x09 | 0x49 => {
                    let (name, next) = self.name_ref(pos)?;
                    pos = next;
                    build.push(Node::Entity(name), &mut self.scratch)?;
                }
                0x0a => {
                    pos = self.name_ref(pos)?.1;
                    build.push(Node::Pi, &mut self.scratch)?;
                }
                0x0b => {
                    pos += 2 + 2 * u16_at(data, pos)? as usize;
                    build.push(Node::Pi, &mut self.scratch)?;
                }
                0x0c if !def => {
                    if build.in_start_tag() {
                        return Err("template instance inside an attribute value".into());
                    }
                    let (root, next) = self.instance(pos, depth)?;
                    pos = next;
                    build.attach(root, &mut self.scratch);
                }
                0x0d | 0x0e if def => {
                    let id = u16_at(data, pos)?;
                    let t = *data.get(pos + 2).ok_or("substitution type past the end of the chunk")?;
                    if !known_type(t) {
                        return Err(format!("unknown substitution type {t:#04x} at offset {pos:#x}"));
                    }
                    pos += 3;
                    build.push(Node::Hole { id, optional: token == 0x0e }, &mut self.scratch)?;
                }
                0x0f => pos += 3,
                _ => return Err(format!("unexpected BinXML token {token:#04x} at offset {:#x}", pos - 1)),
            }
        }
        build.finish()
    }

    fn target(&mut self, def: bool) -> (&mut Tree, &mut Scratch) {
        (if def { &mut self.defs } else { &mut self.rec }, &mut self.scratch)
    }

    /// A BinXML value inside a stream: its elements go where the value is.
    fn fragment_value(&mut self, build: &mut Build, def: bool, off: u32, len: u32, depth: usize) -> Res<()> {
        if len == 0 {
            return Ok(());
        }
        if def {
            // Windows never writes one into a template definition, and building its template
            // instances into the shared definitions would tie templates to each other.
            return Err("BinXML value inside a template definition is not supported".into());
        }
        if build.in_start_tag() {
            return Err("BinXML value inside an attribute value".into());
        }
        for root in self.walk(off as usize, len as usize, false, depth + 1)? {
            build.attach(root, &mut self.scratch);
        }
        Ok(())
    }

    /// The header of a template instance whose token ended at `pos`: its definition's
    /// offset, its substitution descriptors (4 bytes each: size, type, padding), and where
    /// its values start.
    fn instance_header(&self, pos: usize) -> Res<(u32, &'d [u8], usize)> {
        let data = self.data;
        let def_off = u32_at(data, pos + 5)?;
        let mut at = pos + 9;
        if def_off as usize == at {
            // The definition itself follows (its first use in the chunk): 24 bytes of header
            // (next definition, GUID, size), then its body.
            at += 24 + u32_at(data, at + 20)? as usize;
        }
        let count = u32_at(data, at)? as usize;
        let descriptors = data.get(at + 4..at + 4 + 4 * count).ok_or("substitution descriptors run past the end of the chunk")?;
        if let Some(bad) = descriptors.chunks_exact(4).find(|d| !known_type(d[2])) {
            return Err(format!("unknown substitution type {:#04x}", bad[2]));
        }
        Ok((def_off, descriptors, at + 4 + 4 * count))
    }

    /// A template instance whose token ended at `pos`: builds it into `rec` and returns its
    /// root element and where the stream goes on.
    fn instance(&mut self, pos: usize, depth: usize) -> Res<(u32, usize)> {
        let data = self.data;
        let (def_off, descriptors, mut pos) = self.instance_header(pos)?;
        let root = self.template(def_off)?;
        let first_slot = self.slots.len();
        for d in descriptors.chunks_exact(4) {
            let size = u16::from_le_bytes([d[0], d[1]]) as usize;
            let (v, used) = decode_sized(d[2], data, pos, size, &mut self.pool)?;
            // A value read past its descriptor's size (only in damaged records) moves the
            // rest along, as in the evtx crate.
            pos += used.max(size);
            let seq = self.seq;
            self.seq += 1;
            let slot = match v {
                Val::BinXml { len: 0, .. } => Slot::Scalar(Val::Null, seq),
                Val::BinXml { off, len } => {
                    let roots = self.walk(off as usize, len as usize, false, depth + 1)?;
                    let start = self.roots.len();
                    self.roots.extend(roots);
                    Slot::Fragment(Span { start: start as u32, len: (self.roots.len() - start) as u32 })
                }
                v => Slot::Scalar(v, seq),
            };
            self.slots.push(slot);
        }
        let start = self.scratch.nodes.len();
        self.copy_elem(root, first_slot, true)?;
        self.slots.truncate(first_slot);
        let root = match self.scratch.nodes.pop() {
            Some(Node::Elem(root)) if self.scratch.nodes.len() == start => root,
            _ => return Err("template instance built no single element".into()),
        };
        Ok((root, pos))
    }

    /// Decodes the values of the record whose BinXML is `data[off..off + len]` into `flat`,
    /// in the order `record` numbers them, without building anything, and writes the
    /// record's shape into `sig`: for each template instance, its definition and for each
    /// value whether it is NullType, empty, a number or boolean, other, or a BinXML value
    /// (then that value's own shape). Two records of one shape give trees that differ only in
    /// their values' text, so one plan (see `plan`) gives both their fields. `None` for a
    /// record of another make: a stream that is not one template instance (its BinXML
    /// values likewise), or an array value that repeats an element.
    pub fn scan(&mut self, off: usize, len: usize) -> Option<()> {
        self.pool.clear();
        self.flat.clear();
        self.sig.clear();
        self.scan_stream(off, len, 0)
    }

    fn scan_stream(&mut self, off: usize, len: usize, depth: usize) -> Option<()> {
        let data = self.data;
        let mut pos = off;
        if data.get(pos) == Some(&0x0f) {
            pos += 4;
        }
        if depth > MAX_NESTING || data.get(pos) != Some(&0x0c) {
            return None;
        }
        let (def_off, descriptors, mut pos) = self.instance_header(pos + 1).ok()?;
        let template = self.template_id(def_off)?;
        self.sig.extend_from_slice(&template.to_le_bytes());
        self.sig.extend_from_slice(&(descriptors.len() as u32).to_le_bytes());
        for d in descriptors.chunks_exact(4) {
            let size = u16::from_le_bytes([d[0], d[1]]) as usize;
            let (v, used) = decode_sized(d[2], data, pos, size, &mut self.pool).ok()?;
            pos += used.max(size);
            // An empty BinXML value is NullType to the tree (see `instance`).
            self.flat.push(if matches!(v, Val::BinXml { len: 0, .. }) { Val::Null } else { v });
            let class = match v {
                Val::Null | Val::BinXml { len: 0, .. } => 0,
                Val::BinXml { off, len } => {
                    self.sig.push(4);
                    self.scan_stream(off as usize, len as usize, depth + 1)?;
                    continue;
                }
                v if v.expands().is_some() => return None,
                v if v.is_empty() => 1,
                v if v.is_bare() => 2,
                _ => 3,
            };
            self.sig.push(class);
        }
        // What follows the instance must end the stream, as `walk` would find.
        match data.get(pos) {
            _ if pos >= off + len => Some(()),
            Some(0) => Some(()),
            _ => None,
        }
    }

    /// The number plans know the template at `def_off` by: the same for every template of
    /// the same content, in any chunk (`None` when it does not parse).
    fn template_id(&mut self, def_off: u32) -> Option<u32> {
        if let Some(&id) = self.template_ids.get(&def_off) {
            return id;
        }
        let id = self.template(def_off).ok().and_then(|root| {
            let mut content = Vec::new();
            self.content(root, &mut content).ok()?;
            Some(super::plan::template_id(content))
        });
        self.template_ids.insert(def_off, id);
        id
    }

    /// Appends what makes the definition element `id` what it is, with names and literal
    /// values as their bytes rather than where they are: two definitions with the same
    /// content build the same trees from the same values. Definitions are at most
    /// `MAX_DEPTH` deep, which bounds the recursion.
    fn content(&self, id: u32, out: &mut Vec<u8>) -> Res<()> {
        let e = self.defs.elem(id)?;
        out.push(b'<');
        self.name_content(e.name, out)?;
        out.extend(e.dep.unwrap_or(0xffff).to_le_bytes());
        for a in self.defs.attrs(e.attrs) {
            out.push(b'@');
            self.name_content(a.name, out)?;
            self.nodes_content(self.defs.nodes(a.value), out)?;
        }
        out.push(b'>');
        self.nodes_content(self.defs.nodes(e.children), out)?;
        out.push(b'/');
        Ok(())
    }

    fn nodes_content(&self, nodes: &[Node], out: &mut Vec<u8>) -> Res<()> {
        for n in nodes {
            match *n {
                Node::Elem(child) => self.content(child, out)?,
                Node::Val(v, _) => {
                    out.push(b'v');
                    v.content(self.data, out)?;
                }
                Node::CharRef(c) => {
                    out.push(b'c');
                    out.extend(c.to_le_bytes());
                }
                Node::Entity(name) => {
                    out.push(b'e');
                    self.name_content(name, out)?;
                }
                Node::Pi => out.push(b'p'),
                Node::Hole { id, optional } => {
                    out.push(if optional { b'o' } else { b'h' });
                    out.extend(id.to_le_bytes());
                }
            }
        }
        Ok(())
    }

    fn name_content(&self, name: u32, out: &mut Vec<u8>) -> Res<()> {
        let text = self.names.at(name)?.text.as_bytes();
        out.extend((text.len() as u32).to_le_bytes());
        out.extend_from_slice(text);
        Ok(())
    }

    /// The root element of the definition at `off` in `defs`, parsing it on first use.
    fn template(&mut self, off: u32) -> Res<u32> {
        if let Some(known) = self.templates.get(&off) {
            return known.clone();
        }
        let parsed = self.parse_template(off);
        self.templates.insert(off, parsed.clone());
        parsed
    }

    fn parse_template(&mut self, off: u32) -> Res<u32> {
        let size = u32_at(self.data, off as usize + 20)? as usize;
        let body = off as usize + 24;
        if self.data.len() < body.saturating_add(size) {
            return Err(format!("template definition at {off:#x} runs past the end of the chunk"));
        }
        match self.walk(body, size, true, 0)?.as_slice() {
            [root] => Ok(*root),
            [] => Err(format!("template definition at {off:#x} has no element")),
            _ => Err(format!("template definition at {off:#x} has more than one root element")),
        }
    }

    /// Copies definition element `id` into `rec` with its holes filled from the slots from
    /// `first_slot` on, and pushes the element to the scratch, or unless it is the
    /// template's root the copies an array value makes of it (the evtx crate never repeats
    /// a root). The definition tree is at most `MAX_DEPTH` deep, which bounds the recursion.
    fn copy_elem(&mut self, id: u32, first_slot: usize, root: bool) -> Res<()> {
        let e = *self.defs.elem(id)?;
        self.charge(1 + e.attrs.len as usize + e.children.len as usize)?;
        let mut expands = false;
        let attrs_start = self.scratch.attrs.len();
        for a in e.attrs.range() {
            let attr = self.defs.attrs[a];
            let start = self.scratch.nodes.len();
            for n in attr.value.range() {
                let node = self.defs.nodes[n];
                expands |= self.fill(node, first_slot)?;
            }
            if self.scratch.nodes.len() > start {
                let value = self.rec.take_nodes(&mut self.scratch, start);
                self.scratch.attrs.push(super::tree::Attr { name: attr.name, value });
            }
        }
        let attrs = self.rec.take_attrs(&mut self.scratch, attrs_start);
        let start = self.scratch.nodes.len();
        for n in e.children.range() {
            match self.defs.nodes[n] {
                Node::Elem(child) => {
                    let left_out = self
                        .defs
                        .elem(child)?
                        .dep
                        .is_some_and(|d| matches!(self.slots.get(first_slot + d as usize), Some(Slot::Scalar(Val::Null, _))));
                    if !left_out {
                        self.copy_elem(child, first_slot, false)?;
                    }
                }
                node => expands |= self.fill(node, first_slot)?,
            }
        }
        let children = self.rec.take_nodes(&mut self.scratch, start);
        let copy = self.rec.push_elem(Elem { name: e.name, dep: None, attrs, children });
        if expands && !root {
            self.expand(copy)
        } else {
            self.scratch.nodes.push(Node::Elem(copy));
            Ok(())
        }
    }

    /// Pushes what a definition node becomes to the scratch: itself, or for a hole its
    /// value (nothing for an empty optional one, the elements of a BinXML one). Returns
    /// whether it pushed an array that repeats its element.
    fn fill(&mut self, node: Node, first_slot: usize) -> Res<bool> {
        let Node::Hole { id, optional } = node else {
            self.scratch.nodes.push(node);
            return Ok(false);
        };
        match self.slots.get(first_slot + id as usize).copied() {
            // A hole past the values is left empty.
            None => Ok(false),
            Some(Slot::Fragment(span)) => {
                self.charge(span.len as usize)?;
                for i in span.range() {
                    let root = *self.roots.get(i).ok_or("fragment index out of range")?;
                    self.scratch.nodes.push(Node::Elem(root));
                }
                Ok(false)
            }
            Some(Slot::Scalar(v, _)) if optional && v.is_empty() => Ok(false),
            Some(Slot::Scalar(v, seq)) => {
                self.scratch.nodes.push(Node::Val(v, seq));
                Ok(v.expands().is_some())
            }
        }
    }

    /// Repeats element `id` once per item of its first array value with more than one item,
    /// and each copy again for its next array, as MS-EVEN6 3.1.4.7.5 has arrays expand.
    fn expand(&mut self, id: u32) -> Res<()> {
        let mut done = vec![id];
        loop {
            let mut next = Vec::with_capacity(done.len());
            let mut changed = false;
            for &e in &done {
                match self.expand_first(e)? {
                    Some(copies) => {
                        changed = true;
                        next.extend(copies);
                    }
                    None => next.push(e),
                }
            }
            done = next;
            if !changed {
                self.scratch.nodes.extend(done.into_iter().map(Node::Elem));
                return Ok(());
            }
        }
    }

    /// Copies of `id`, one per item of its first expanding array (children first, then
    /// attributes); `None` when it has none.
    fn expand_first(&mut self, id: u32) -> Res<Option<Vec<u32>>> {
        let e = *self.rec.elem(id)?;
        let is_array = |n: &Node| matches!(n, Node::Val(v, _) if v.expands().is_some());
        // Where the array is: `None` for a child, or the attribute's index.
        let found = self.rec.nodes(e.children).iter().position(is_array).map(|i| (None, i)).or_else(|| {
            self.rec
                .attrs(e.attrs)
                .iter()
                .enumerate()
                .find_map(|(ai, a)| self.rec.nodes(a.value).iter().position(is_array).map(|ni| (Some(ai), ni)))
        });
        let Some((attr_index, node_index)) = found else { return Ok(None) };
        let span = match attr_index {
            None => e.children,
            Some(ai) => self.rec.attrs(e.attrs)[ai].value,
        };
        let Node::Val(array, _) = self.rec.nodes(span)[node_index] else { return Ok(None) };
        let count = array.expands().unwrap_or(1);
        self.charge(count * (1 + e.attrs.len as usize + e.children.len as usize))?;
        let mut copies = Vec::with_capacity(count);
        let items = if count > 1 { array.items(self.data, &mut self.pool)? } else { vec![array.item(self.data, 0, &mut self.pool)?] };
        for item in items {
            // Empty string items leave their place empty, as in the evtx crate.
            let keep = !matches!(item, Val::Str { .. } | Val::Ansi { .. } if item.is_empty());
            let with_item = |nodes: &[Node], scratch: &mut Scratch| {
                for (j, n) in nodes.iter().enumerate() {
                    if j != node_index {
                        scratch.nodes.push(*n);
                    } else if keep {
                        scratch.nodes.push(Node::Val(item, NO_SRC));
                    }
                }
            };
            let attrs_start = self.scratch.attrs.len();
            for (ai, a) in self.rec.attrs(e.attrs).to_vec().into_iter().enumerate() {
                let start = self.scratch.nodes.len();
                if attr_index == Some(ai) {
                    with_item(self.rec.nodes(a.value), &mut self.scratch);
                } else {
                    self.scratch.nodes.extend_from_slice(self.rec.nodes(a.value));
                }
                if self.scratch.nodes.len() > start {
                    let value = self.rec.take_nodes(&mut self.scratch, start);
                    self.scratch.attrs.push(super::tree::Attr { name: a.name, value });
                }
            }
            let attrs = self.rec.take_attrs(&mut self.scratch, attrs_start);
            let start = self.scratch.nodes.len();
            if attr_index.is_none() {
                with_item(self.rec.nodes(e.children), &mut self.scratch);
            } else {
                self.scratch.nodes.extend_from_slice(self.rec.nodes(e.children));
            }
            let children = self.rec.take_nodes(&mut self.scratch, start);
            copies.push(self.rec.push_elem(Elem { name: e.name, dep: None, attrs, children }));
        }
        Ok(Some(copies))
    }
}
