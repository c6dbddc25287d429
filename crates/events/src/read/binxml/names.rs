//! Element and attribute names (the chunk's string table), and the field names they become.
//!
//! Names are read where a stream refers to them. The evtx crate instead walks the chunk
//! header's hash chains of names up front, and loses the whole chunk when a link is broken
//! (only damaged or crafted chunks have one); here that costs only a record that refers to
//! a name that cannot be read.
//!
//! A chunk's names are kept by index (see `Names`), and the field names they become are
//! cached per thread, so that interning into the process-wide field-name table (which takes a
//! lock) happens once per name, not once per chunk or record.

use super::values::{Res, u16_at};
use crate::model::FieldName;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes the keys of the decoder's maps with a multiply per word: they are chunk offsets,
/// field-name ids and record shapes, and SipHash costs more than the lookups. The maps are
/// small and bounded, so keys made to collide cost little.
#[derive(Default)]
pub(crate) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            self.0 = (self.0.rotate_left(32) ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        for &b in words.remainder() {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(32) ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(32) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

pub(super) type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// A name from the string table.
pub(super) struct Name {
    pub text: Box<str>,
    pub field: FieldName,
    /// `xmlns` or `xmlns:*`: namespace declarations, which events leave out.
    pub xmlns: bool,
    pub is_data: bool,
    pub is_container: bool,
    /// `Name`, the attribute that names a `Data` element.
    pub is_name: bool,
}

/// Most distinct texts kept per cache; a hostile chunk could otherwise make them large.
const MAX_CACHED: usize = 1 << 16;

/// A chunk's names, by the index `get` gives them: trees keep that index, so that reading a
/// name while rendering is a vector lookup. A name takes at least 10 bytes of the chunk,
/// which bounds how many there are.
#[derive(Default)]
pub(super) struct Names {
    list: Vec<Name>,
    by_offset: IntMap<u32, u32>,
    strings: IntMap<(u32, u32), FieldName>,
}

impl Names {
    /// The index of the name at `offset` in the chunk: a 4-byte link, a 2-byte hash, a
    /// 2-byte length in UTF-16 units, then the units and a NUL.
    pub fn get(&mut self, data: &[u8], offset: u32) -> Res<u32> {
        if let Some(&i) = self.by_offset.get(&offset) {
            return Ok(i);
        }
        let i = self.list.len() as u32;
        self.list.push(read_name(data, offset)?);
        self.by_offset.insert(offset, i);
        Ok(i)
    }

    /// The name `get` gave index `i`.
    pub fn at(&self, i: u32) -> Res<&Name> {
        self.list.get(i as usize).ok_or_else(|| "name index out of range".to_string())
    }

    /// The field name for the string at a chunk offset: a `Data` element's `Name`, which is
    /// usually literal text in its template, so the same offset for every record.
    pub fn string_at(&mut self, data: &[u8], off: u32, units: u32) -> Res<FieldName> {
        if let Some(&f) = self.strings.get(&(off, units)) {
            return Ok(f);
        }
        let mut text = String::new();
        super::text::utf16_lossy(data, off as usize, units as usize, &mut text)?;
        let f = intern(&text);
        if self.strings.len() >= MAX_CACHED {
            self.strings.clear();
        }
        self.strings.insert((off, units), f);
        Ok(f)
    }
}

/// This thread's field names by text, and the names composed from others. Each chunk has
/// its own names, and interning (or composing) them anew in the process-wide table, a lock
/// and a hash each, would be a cost per chunk.
#[derive(Default)]
struct Cache {
    texts: HashMap<Box<str>, FieldName, BuildHasherDefault<IntHasher>>,
    suffixed: IntMap<(FieldName, u32), FieldName>,
    composite: IntMap<(FieldName, FieldName), FieldName>,
}

thread_local! {
    static CACHE: std::cell::RefCell<Cache> = std::cell::RefCell::default();
}

/// `name_N`, the key the evtx crate gives the Nth repeat of a name in one object.
pub(super) fn suffixed(name: FieldName, suffix: u32) -> FieldName {
    if suffix == 0 {
        return name;
    }
    CACHE.with(|c| {
        let map = &mut c.borrow_mut().suffixed;
        if map.len() >= MAX_CACHED {
            map.clear();
        }
        *map.entry((name, suffix)).or_insert_with(|| FieldName::intern(&format!("{name}_{suffix}")))
    })
}

/// `parent_attribute`, as `evtx_json::flatten_into` names attributes.
pub(super) fn composite(parent: FieldName, attr: FieldName) -> FieldName {
    CACHE.with(|c| {
        let map = &mut c.borrow_mut().composite;
        if map.len() >= MAX_CACHED {
            map.clear();
        }
        *map.entry((parent, attr)).or_insert_with(|| FieldName::intern(&format!("{parent}_{attr}")))
    })
}

/// `FieldName::intern`, through this thread's cache.
pub(super) fn intern(text: &str) -> FieldName {
    CACHE.with(|cache| {
        let cache = &mut cache.borrow_mut().texts;
        if let Some(&f) = cache.get(text) {
            return f;
        }
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        let f = FieldName::intern(text);
        cache.insert(text.into(), f);
        f
    })
}

fn read_name(data: &[u8], offset: u32) -> Res<Name> {
    let at = offset as usize;
    let units = u16_at(data, at + 6)? as usize;
    // The units and a NUL after them.
    let raw =
        data.get(at + 8..at + 8 + 2 * units + 2).ok_or_else(|| format!("name at offset {offset:#x} runs past the end of the chunk"))?;
    let raw = &raw[..2 * units];
    let code_units = raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|&u| u != 0);
    let text: String =
        char::decode_utf16(code_units).collect::<Result<_, _>>().map_err(|_| format!("name at offset {offset:#x} is not valid UTF-16"))?;
    Ok(Name {
        field: intern(&text),
        xmlns: text == "xmlns" || text.starts_with("xmlns:"),
        is_data: text == "Data",
        is_container: text == "EventData" || text == "UserData",
        is_name: text == "Name",
        text: text.into_boxed_str(),
    })
}
