//! The element trees BinXML streams build: template definitions (with holes where the
//! substitutions go) and records (with the holes filled).
//!
//! Elements, attributes and nodes live in three flat vectors per tree and refer to each other
//! by index, so that building a record reuses the vectors of the one before and allocates
//! nothing once they have grown. An element's children are contiguous: while an element is
//! open its children collect on a scratch stack, and move into the tree when it closes.

use super::values::{Res, Val};

/// A run of entries in one of a tree's vectors.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Elem {
    /// The element's name, by its index in the chunk's `Names`.
    pub name: u32,
    /// In a template definition, the substitution whose NullType value leaves this element
    /// out (MS-EVEN6 2.2.12); `None` for 0xFFFF and outside definitions.
    pub dep: Option<u16>,
    pub attrs: Span,
    pub children: Span,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Attr {
    pub name: u32,
    pub value: Span,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Node {
    Elem(u32),
    /// Text and typed values alike: literal text is a string value, and JSON treats a string
    /// value exactly as text (see `render`). The number is the substitution it came from, in
    /// the order the record's values are decoded, or `NO_SRC` for literals (see `plan`).
    Val(Val, u32),
    CharRef(u16),
    /// An entity reference, by its name's index in the chunk's `Names`.
    Entity(u32),
    /// A processing instruction's target or data, which no output shows but which still
    /// counts as a node.
    Pi,
    /// A substitution in a template definition.
    Hole {
        id: u16,
        optional: bool,
    },
}

#[derive(Default)]
pub(super) struct Tree {
    pub elems: Vec<Elem>,
    pub attrs: Vec<Attr>,
    pub nodes: Vec<Node>,
}

impl Tree {
    pub fn clear(&mut self) {
        self.elems.clear();
        self.attrs.clear();
        self.nodes.clear();
    }

    pub fn elem(&self, id: u32) -> Res<&Elem> {
        self.elems.get(id as usize).ok_or_else(|| "element index out of range".to_string())
    }

    pub fn nodes(&self, span: Span) -> &[Node] {
        self.nodes.get(span.range()).unwrap_or(&[])
    }

    pub fn attrs(&self, span: Span) -> &[Attr] {
        self.attrs.get(span.range()).unwrap_or(&[])
    }

    /// Moves `from[start..]` to the end of `to` and returns where it went.
    fn take<T: Copy>(to: &mut Vec<T>, from: &mut Vec<T>, start: usize) -> Span {
        let at = to.len();
        let start = start.min(from.len());
        to.extend_from_slice(&from[start..]);
        from.truncate(start);
        Span { start: at as u32, len: (to.len() - at) as u32 }
    }

    pub fn take_nodes(&mut self, scratch: &mut Scratch, start: usize) -> Span {
        Self::take(&mut self.nodes, &mut scratch.nodes, start)
    }

    pub fn take_attrs(&mut self, scratch: &mut Scratch, start: usize) -> Span {
        Self::take(&mut self.attrs, &mut scratch.attrs, start)
    }

    pub fn push_elem(&mut self, elem: Elem) -> u32 {
        self.elems.push(elem);
        (self.elems.len() - 1) as u32
    }
}

/// Where nodes and attributes wait until their element closes.
#[derive(Default)]
pub(super) struct Scratch {
    pub nodes: Vec<Node>,
    pub attrs: Vec<Attr>,
}

/// The source of a value that is no substitution.
pub(super) const NO_SRC: u32 = u32::MAX;

/// Deepest element nesting one stream may open, and a record's tree may have: it bounds
/// the recursion of everything that walks a tree. The evtx crate allows 512; half of that
/// keeps the walks within a 2 MiB thread stack (rayon's) even in a debug build, and real
/// records nest a dozen deep.
pub(super) const MAX_DEPTH: usize = 256;

/// An element whose start tag is still being read (its attributes).
struct Pending {
    name: u32,
    dep: Option<u16>,
    attrs_start: usize,
    /// The attribute being read: its name and where its value nodes start in the scratch.
    attr: Option<(u32, usize)>,
}

struct Open {
    name: u32,
    dep: Option<u16>,
    attrs: Span,
    children_start: usize,
}

/// The state of one stream's tree building; the tree and scratch are passed in, so that a
/// template instance met in the stream can be built into the same tree in between.
#[derive(Default)]
pub(super) struct Build {
    pending: Option<Pending>,
    open: Vec<Open>,
    pub roots: Vec<u32>,
}

fn bad(what: &str) -> String {
    format!("malformed BinXML: {what}")
}

impl Build {
    pub fn open_start(&mut self, name: u32, dep: Option<u16>, scratch: &Scratch) -> Res<()> {
        if self.pending.is_some() {
            return Err(bad("element start inside an element start"));
        }
        self.pending = Some(Pending { name, dep, attrs_start: scratch.attrs.len(), attr: None });
        Ok(())
    }

    pub fn attribute(&mut self, name: u32, tree: &mut Tree, scratch: &mut Scratch) -> Res<()> {
        let pending = self.pending.as_mut().ok_or_else(|| bad("attribute outside an element start"))?;
        Self::finish_attr(pending, tree, scratch);
        pending.attr = Some((name, scratch.nodes.len()));
        Ok(())
    }

    fn finish_attr(pending: &mut Pending, tree: &mut Tree, scratch: &mut Scratch) {
        // An attribute whose value is nothing at all is left out, as the evtx crate does.
        if let Some((name, start)) = pending.attr.take()
            && scratch.nodes.len() > start
        {
            let value = tree.take_nodes(scratch, start);
            scratch.attrs.push(Attr { name, value });
        }
    }

    /// A text, value or reference node: part of the attribute being read, or a child of the
    /// innermost open element.
    pub fn push(&mut self, node: Node, scratch: &mut Scratch) -> Res<()> {
        match &self.pending {
            // Value nodes before the first attribute of a start tag belong to nothing.
            Some(p) if p.attr.is_none() => Ok(()),
            Some(_) if matches!(node, Node::Elem(_)) => Err(bad("element inside an attribute value")),
            Some(_) => {
                scratch.nodes.push(node);
                Ok(())
            }
            None if self.open.is_empty() => Err(bad("value outside of any element")),
            None => {
                scratch.nodes.push(node);
                Ok(())
            }
        }
    }

    pub fn in_start_tag(&self) -> bool {
        self.pending.is_some()
    }

    pub fn close_start(&mut self, tree: &mut Tree, scratch: &mut Scratch) -> Res<()> {
        let mut p = self.pending.take().ok_or_else(|| bad("close of an element start that is not open"))?;
        if self.open.len() >= MAX_DEPTH {
            return Err(bad("elements nested too deeply"));
        }
        Self::finish_attr(&mut p, tree, scratch);
        let attrs = tree.take_attrs(scratch, p.attrs_start);
        self.open.push(Open { name: p.name, dep: p.dep, attrs, children_start: scratch.nodes.len() });
        Ok(())
    }

    pub fn close_empty(&mut self, tree: &mut Tree, scratch: &mut Scratch) -> Res<()> {
        let mut p = self.pending.take().ok_or_else(|| bad("empty close of an element that is not open"))?;
        Self::finish_attr(&mut p, tree, scratch);
        let attrs = tree.take_attrs(scratch, p.attrs_start);
        let id = tree.push_elem(Elem { name: p.name, dep: p.dep, attrs, children: Span::default() });
        self.attach(id, scratch);
        Ok(())
    }

    pub fn end_element(&mut self, tree: &mut Tree, scratch: &mut Scratch) -> Res<()> {
        if self.pending.is_some() {
            return Err(bad("element end inside an element start"));
        }
        let open = self.open.pop().ok_or_else(|| bad("element end without an open element"))?;
        let children = tree.take_nodes(scratch, open.children_start);
        let id = tree.push_elem(Elem { name: open.name, dep: open.dep, attrs: open.attrs, children });
        self.attach(id, scratch);
        Ok(())
    }

    /// Places a finished element: a child of the innermost open element, or a root.
    pub fn attach(&mut self, id: u32, scratch: &mut Scratch) {
        if self.open.is_empty() {
            self.roots.push(id);
        } else {
            scratch.nodes.push(Node::Elem(id));
        }
    }

    pub fn finish(self) -> Res<Vec<u32>> {
        if self.pending.is_some() || !self.open.is_empty() {
            return Err(bad("stream ends inside an element"));
        }
        Ok(self.roots)
    }
}

/// Whether any of `nodes` is an element.
pub(super) fn has_elem(nodes: &[Node]) -> bool {
    nodes.iter().any(|n| matches!(n, Node::Elem(_)))
}
