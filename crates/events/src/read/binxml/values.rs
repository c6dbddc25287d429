//! BinXML values (MS-EVEN6 2.2.4): decoding them from a chunk's bytes, and their text.
//!
//! A value keeps offsets into the chunk rather than copies, so decoding a record's
//! substitution array allocates nothing; text is made only for the values an event keeps.
//! Each text form is the one the `evtx` crate's JSON output gives the same value, which the
//! differential test (`tests/evtx_decoder.rs`) checks on the whole corpus.

use super::text::{filetime, guid, hex, hex_digit, push_int, push_uint, sid, systime, utf16_lossy};
use crate::model::Value;

/// Value type bytes (MS-EVEN6 2.2.4.1). Arrays are the scalar type with bit 0x80 set.
pub(super) mod ty {
    pub const NULL: u8 = 0x00;
    pub const STRING: u8 = 0x01;
    pub const ANSI: u8 = 0x02;
    pub const INT8: u8 = 0x03;
    pub const UINT8: u8 = 0x04;
    pub const INT16: u8 = 0x05;
    pub const UINT16: u8 = 0x06;
    pub const INT32: u8 = 0x07;
    pub const UINT32: u8 = 0x08;
    pub const INT64: u8 = 0x09;
    pub const UINT64: u8 = 0x0a;
    pub const REAL32: u8 = 0x0b;
    pub const REAL64: u8 = 0x0c;
    pub const BOOL: u8 = 0x0d;
    pub const BINARY: u8 = 0x0e;
    pub const GUID: u8 = 0x0f;
    pub const SIZE_T: u8 = 0x10;
    pub const FILETIME: u8 = 0x11;
    pub const SYSTIME: u8 = 0x12;
    pub const SID: u8 = 0x13;
    pub const HEX32: u8 = 0x14;
    pub const HEX64: u8 = 0x15;
    pub const BINXML: u8 = 0x21;
    pub const ARRAY: u8 = 0x80;
}

/// Whether a type byte names a type at all. Types that exist but that no log uses (handles,
/// EvtXml, arrays of binary or size_t) pass here and fail when a value of theirs is decoded,
/// which is the order in which the evtx crate reports them.
pub(super) fn known_type(t: u8) -> bool {
    matches!(t, 0x00..=0x15 | 0x20 | 0x21 | 0x23 | 0x81..=0x95)
}

/// One decoded value. Offsets are into the chunk; `Ansi` text is in the record's text pool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Val {
    Null,
    /// UTF-16LE code units; the text ends at the first NUL among them, and is empty (`units`
    /// is 0) when the first is one.
    Str {
        off: u32,
        units: u32,
    },
    Ansi {
        start: u32,
        len: u32,
    },
    I8(i8),
    U8(u8),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    F32(f32),
    F64(f64),
    Bool(bool),
    Binary {
        off: u32,
        len: u32,
    },
    Guid {
        off: u32,
    },
    FileTime(u64),
    SysTime {
        off: u32,
    },
    Sid {
        off: u32,
        len: u32,
    },
    Hex32(u32),
    Hex64(u64),
    /// An embedded BinXML stream; non-empty ones are built into elements, never rendered.
    BinXml {
        off: u32,
        len: u32,
    },
    /// A sized array: `ty` is the item type, `count` its items.
    Array {
        ty: u8,
        off: u32,
        len: u32,
        count: u32,
    },
}

pub(super) type Res<T> = Result<T, String>;

pub(super) fn bytes<'d>(data: &'d [u8], pos: usize, n: usize, what: &str) -> Res<&'d [u8]> {
    data.get(pos..pos.checked_add(n).ok_or_else(|| format!("{what}: size overflow"))?)
        .ok_or_else(|| format!("{what} at offset {pos:#x} runs past the end of the chunk"))
}

fn arr<const N: usize>(data: &[u8], pos: usize, what: &str) -> Res<[u8; N]> {
    let b = bytes(data, pos, N, what)?;
    let mut out = [0u8; N];
    out.copy_from_slice(b);
    Ok(out)
}

pub(super) fn u16_at(data: &[u8], pos: usize) -> Res<u16> {
    Ok(u16::from_le_bytes(arr(data, pos, "u16")?))
}

pub(super) fn u32_at(data: &[u8], pos: usize) -> Res<u32> {
    Ok(u32::from_le_bytes(arr(data, pos, "u32")?))
}

pub(super) fn u64_at(data: &[u8], pos: usize) -> Res<u64> {
    Ok(u64::from_le_bytes(arr(data, pos, "u64")?))
}

/// `units` UTF-16 code units at `pos`, cut at the first NUL as Windows readers do.
pub(super) fn utf16_string(data: &[u8], pos: usize, units: usize, what: &str) -> Res<Val> {
    let raw = bytes(data, pos, units.checked_mul(2).ok_or("string size overflow")?, what)?;
    Ok(Val::Str { off: pos as u32, units: first_nul(raw).unwrap_or(units) as u32 })
}

/// Index of the first NUL code unit. Four units at a time: `(x - 0x0001..) & !x & 0x8000..`
/// is non-zero exactly when one of the four 16-bit lanes of `x` is zero. (Finding the NUL
/// here rather than while converting the text measured faster: the conversion's loop stays
/// simple.)
fn first_nul(raw: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0001_0001_0001_0001;
    const HIGHS: u64 = 0x8000_8000_8000_8000;
    let mut words = raw.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        if x.wrapping_sub(ONES) & !x & HIGHS != 0 {
            break;
        }
        at += 4;
    }
    raw[2 * at..].chunks_exact(2).position(|c| c == [0, 0]).map(|i| at + i)
}

/// Decodes a value whose size the substitution descriptor gives, at `pos`. Returns it and
/// the bytes it read, which may differ from `size`: the caller moves on by the larger of the
/// two, as the evtx crate does, so that a record with one odd descriptor reads the same.
pub(super) fn decode_sized(t: u8, data: &[u8], pos: usize, size: usize, pool: &mut String) -> Res<(Val, usize)> {
    let v = match t {
        ty::NULL => return Ok((Val::Null, 0)),
        ty::STRING => {
            if !size.is_multiple_of(2) {
                return Err(format!("string value of odd size {size} at offset {pos:#x}"));
            }
            let v = if size == 0 { Val::Str { off: pos as u32, units: 0 } } else { utf16_string(data, pos, size / 2, "string value")? };
            return Ok((v, size));
        }
        ty::ANSI => {
            let raw = bytes(data, pos, size, "ANSI string")?;
            return Ok((ansi(raw.iter().copied().filter(|&b| b != 0), pool), size));
        }
        ty::BINARY => {
            bytes(data, pos, size, "binary value")?;
            return Ok((Val::Binary { off: pos as u32, len: size as u32 }, size));
        }
        ty::BINXML => {
            bytes(data, pos, size, "BinXML value")?;
            return Ok((Val::BinXml { off: pos as u32, len: size as u32 }, size));
        }
        ty::SIZE_T => match size {
            4 => Val::Hex32(u32_at(data, pos)?),
            8 => Val::Hex64(u64_at(data, pos)?),
            _ => return Err(format!("size_t value of size {size} at offset {pos:#x}")),
        },
        t if t & ty::ARRAY != 0 => return decode_array(t & !ty::ARRAY, data, pos, size),
        _ => return decode_fixed(t, data, pos),
    };
    Ok((v, size))
}

/// A value inside a BinXML stream (a Value token), which carries no size: strings and
/// BinXML say theirs in a 16-bit prefix, the rest have fixed sizes.
pub(super) fn decode_unsized(t: u8, data: &[u8], pos: usize) -> Res<(Val, usize)> {
    match t {
        ty::NULL => Ok((Val::Null, 0)),
        ty::STRING => {
            let units = u16_at(data, pos)? as usize;
            Ok((utf16_string(data, pos + 2, units, "string")?, 2 + 2 * units))
        }
        ty::BINXML => {
            let len = u16_at(data, pos)? as usize;
            bytes(data, pos + 2, len, "BinXML value")?;
            Ok((Val::BinXml { off: (pos + 2) as u32, len: len as u32 }, 2 + len))
        }
        _ => decode_fixed(t, data, pos),
    }
}

fn decode_fixed(t: u8, data: &[u8], pos: usize) -> Res<(Val, usize)> {
    Ok(match t {
        ty::INT8 => (Val::I8(arr::<1>(data, pos, "int8")?[0] as i8), 1),
        ty::UINT8 => (Val::U8(arr::<1>(data, pos, "uint8")?[0]), 1),
        ty::INT16 => (Val::I16(u16_at(data, pos)? as i16), 2),
        ty::UINT16 => (Val::U16(u16_at(data, pos)?), 2),
        ty::INT32 => (Val::I32(u32_at(data, pos)? as i32), 4),
        ty::UINT32 => (Val::U32(u32_at(data, pos)?), 4),
        ty::INT64 => (Val::I64(u64_at(data, pos)? as i64), 8),
        ty::UINT64 => (Val::U64(u64_at(data, pos)?), 8),
        ty::REAL32 => (Val::F32(f32::from_bits(u32_at(data, pos)?)), 4),
        ty::REAL64 => (Val::F64(f64::from_bits(u64_at(data, pos)?)), 8),
        // Windows writes bit masks into some boolean slots: anything but 0 and 1 stays the
        // number it is rather than becoming `true`.
        ty::BOOL => match u32_at(data, pos)? as i32 {
            0 => (Val::Bool(false), 4),
            1 => (Val::Bool(true), 4),
            raw => (Val::I32(raw), 4),
        },
        ty::GUID => {
            bytes(data, pos, 16, "GUID")?;
            (Val::Guid { off: pos as u32 }, 16)
        }
        ty::FILETIME => (Val::FileTime(u64_at(data, pos)?), 8),
        ty::SYSTIME => {
            bytes(data, pos, 16, "SYSTEMTIME")?;
            (Val::SysTime { off: pos as u32 }, 16)
        }
        ty::SID => {
            let count = arr::<8>(data, pos, "SID")?[1] as usize;
            let len = 8 + 4 * count;
            bytes(data, pos, len, "SID")?;
            (Val::Sid { off: pos as u32, len: len as u32 }, len)
        }
        ty::HEX32 => (Val::Hex32(u32_at(data, pos)?), 4),
        ty::HEX64 => (Val::Hex64(u64_at(data, pos)?), 8),
        _ => return Err(format!("value type {t:#04x} at offset {pos:#x} is not supported")),
    })
}

/// Size of one item of a fixed-size array type, `None` for the variable ones.
fn item_size(t: u8) -> Option<usize> {
    Some(match t {
        ty::INT8 | ty::UINT8 => 1,
        ty::INT16 | ty::UINT16 => 2,
        ty::INT32 | ty::UINT32 | ty::REAL32 | ty::BOOL | ty::HEX32 => 4,
        ty::INT64 | ty::UINT64 | ty::REAL64 | ty::FILETIME | ty::HEX64 => 8,
        ty::GUID | ty::SYSTIME => 16,
        _ => return None,
    })
}

fn decode_array(item: u8, data: &[u8], pos: usize, size: usize) -> Res<(Val, usize)> {
    let array = |count: usize, item: u8| Val::Array { ty: item, off: pos as u32, len: size as u32, count: count as u32 };
    match item {
        ty::STRING => {
            // NUL-terminated strings back to back; the last one may end past `size`.
            let (mut at, end, mut count) = (pos, pos + size, 0usize);
            while at < end {
                at = nul_after(data, at)? + 2;
                count += 1;
            }
            Ok((array(count, item), at - pos))
        }
        ty::ANSI => {
            let raw = bytes(data, pos, size, "ANSI string array")?;
            Ok((array(ansi_items(raw).count(), item), size))
        }
        ty::SID => {
            let (mut at, mut count) = (pos, 0usize);
            while at - pos < size {
                at += decode_fixed(ty::SID, data, at)?.1;
                count += 1;
            }
            Ok((array(count, item), at - pos))
        }
        _ => {
            let Some(n) = item_size(item) else {
                return Err(format!("array of value type {item:#04x} at offset {pos:#x} is not supported"));
            };
            if !size.is_multiple_of(n) {
                return Err(format!("array of {size} bytes is not a whole number of {n}-byte items"));
            }
            bytes(data, pos, size, "array")?;
            let mut item_ty = item;
            // As for single booleans: one item that is neither 0 nor 1 keeps them all numbers.
            if item == ty::BOOL && (0..size / 4).any(|i| !matches!(u32_at(data, pos + 4 * i), Ok(0 | 1))) {
                item_ty = ty::INT32;
            }
            Ok((array(size / n, item_ty), size))
        }
    }
}

/// Offset of the NUL code unit that ends the UTF-16 string at `pos`.
fn nul_after(data: &[u8], pos: usize) -> Res<usize> {
    let rest = data.get(pos..).unwrap_or(&[]);
    rest.chunks_exact(2)
        .position(|c| c == [0, 0])
        .map(|i| pos + 2 * i)
        .ok_or_else(|| format!("string array item at offset {pos:#x} has no end"))
}

/// Items of an ANSI string array: split at NULs, a final NUL ending the last item.
fn ansi_items(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = raw.strip_suffix(&[0]).unwrap_or(raw);
    let items = if raw.is_empty() { None } else { Some(body.split(|&b| b == 0)) };
    items.into_iter().flatten()
}

/// Windows-1252 (the ANSI code page the evtx crate assumes), WHATWG mapping: 0x80..=0x9F
/// map to these, the bytes it leaves undefined to the C1 control of the same number.
const CP1252_HIGH: [char; 32] = [
    '\u{20ac}', '\u{81}', '\u{201a}', '\u{192}', '\u{201e}', '\u{2026}', '\u{2020}', '\u{2021}', '\u{2c6}', '\u{2030}', '\u{160}',
    '\u{2039}', '\u{152}', '\u{8d}', '\u{17d}', '\u{8f}', '\u{90}', '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{2022}', '\u{2013}',
    '\u{2014}', '\u{2dc}', '\u{2122}', '\u{161}', '\u{203a}', '\u{153}', '\u{9d}', '\u{17e}', '\u{178}',
];

fn ansi(raw: impl Iterator<Item = u8>, pool: &mut String) -> Val {
    let start = pool.len();
    for b in raw {
        pool.push(match b {
            0x80..=0x9f => CP1252_HIGH[(b - 0x80) as usize],
            _ => char::from(b),
        });
    }
    Val::Ansi { start: start as u32, len: (pool.len() - start) as u32 }
}

impl Val {
    /// What the evtx crate calls empty: an optional substitution holding it disappears, and
    /// it is no content.
    pub(super) fn is_empty(&self) -> bool {
        match *self {
            Val::Null => true,
            Val::Str { units, .. } => units == 0,
            Val::Ansi { len, .. } | Val::Binary { len, .. } | Val::BinXml { len, .. } => len == 0,
            Val::Array { count, .. } => count == 0,
            _ => false,
        }
    }

    /// Appends the value's type and bytes, for a template's content (`Decoder::content`).
    /// Template literals are text, or fixed-size values read from a stream.
    pub(super) fn content(&self, data: &[u8], out: &mut Vec<u8>) -> Res<()> {
        let mut raw = |tag: u8, bytes: &[u8]| {
            out.push(tag);
            out.extend((bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        };
        match *self {
            Val::Null => raw(ty::NULL, &[]),
            Val::Str { off, units } => raw(ty::STRING, self::bytes(data, off as usize, 2 * units as usize, "string")?),
            Val::I8(v) => raw(ty::INT8, &v.to_le_bytes()),
            Val::U8(v) => raw(ty::UINT8, &v.to_le_bytes()),
            Val::I16(v) => raw(ty::INT16, &v.to_le_bytes()),
            Val::U16(v) => raw(ty::UINT16, &v.to_le_bytes()),
            Val::I32(v) => raw(ty::INT32, &v.to_le_bytes()),
            Val::U32(v) => raw(ty::UINT32, &v.to_le_bytes()),
            Val::I64(v) => raw(ty::INT64, &v.to_le_bytes()),
            Val::U64(v) => raw(ty::UINT64, &v.to_le_bytes()),
            Val::F32(v) => raw(ty::REAL32, &v.to_le_bytes()),
            Val::F64(v) => raw(ty::REAL64, &v.to_le_bytes()),
            Val::Bool(b) => raw(ty::BOOL, &[b as u8]),
            Val::FileTime(v) => raw(ty::FILETIME, &v.to_le_bytes()),
            Val::Hex32(v) => raw(ty::HEX32, &v.to_le_bytes()),
            Val::Hex64(v) => raw(ty::HEX64, &v.to_le_bytes()),
            Val::Guid { off } => raw(ty::GUID, self::bytes(data, off as usize, 16, "GUID")?),
            Val::SysTime { off } => raw(ty::SYSTIME, self::bytes(data, off as usize, 16, "SYSTEMTIME")?),
            Val::Sid { off, len } => raw(ty::SID, self::bytes(data, off as usize, len as usize, "SID")?),
            Val::Binary { .. } | Val::Ansi { .. } | Val::BinXml { .. } | Val::Array { .. } => {
                return Err("no template literal has this type".into());
            }
        }
        Ok(())
    }

    /// Whether JSON shows it as a bare number or boolean rather than a string.
    pub(super) fn is_bare(&self) -> bool {
        matches!(
            self,
            Val::I8(_) | Val::U8(_) | Val::I16(_) | Val::U16(_) | Val::I32(_) | Val::U32(_) | Val::I64(_) | Val::U64(_) | Val::Bool(_)
        )
    }

    /// Items of an array that repeats its element (more than one item), per MS-EVEN6 3.1.4.7.5.
    pub(super) fn expands(&self) -> Option<usize> {
        match *self {
            Val::Array { count, .. } if count > 1 => Some(count as usize),
            _ => None,
        }
    }

    /// Every item of an array, in one pass. Item `i` alone walks the `i` items before it (string
    /// and SID items have no fixed size), so taking the items one by one costs the square of
    /// their number, which a crafted array makes large: a 27 KiB chunk took 0.3 s.
    pub(super) fn items(&self, data: &[u8], pool: &mut String) -> Res<Vec<Val>> {
        let Val::Array { ty: t, off, len, count } = *self else { return Err("not an array".into()) };
        let (pos, count) = (off as usize, count as usize);
        let mut out = Vec::with_capacity(count);
        match t {
            ty::STRING => {
                let mut at = pos;
                for _ in 0..count {
                    let end = nul_after(data, at)?;
                    out.push(Val::Str { off: at as u32, units: ((end - at) / 2) as u32 });
                    at = end + 2;
                }
            }
            ty::ANSI => {
                let raw = bytes(data, pos, len as usize, "ANSI string array")?;
                for item in ansi_items(raw).take(count) {
                    out.push(ansi(item.iter().copied(), pool));
                }
                while out.len() < count {
                    out.push(ansi(std::iter::empty(), pool));
                }
            }
            ty::SID => {
                let mut at = pos;
                for _ in 0..count {
                    let (v, n) = decode_fixed(ty::SID, data, at)?;
                    out.push(v);
                    at += n;
                }
            }
            _ => {
                for i in 0..count {
                    out.push(self.item(data, i, pool)?);
                }
            }
        }
        Ok(out)
    }

    /// Item `i` of an array.
    pub(super) fn item(&self, data: &[u8], i: usize, pool: &mut String) -> Res<Val> {
        let Val::Array { ty: t, off, len, count } = *self else { return Err("not an array".into()) };
        if i >= count as usize {
            return Err("array index out of range".into());
        }
        let pos = off as usize;
        match t {
            ty::STRING => {
                let mut at = pos;
                for _ in 0..i {
                    at = nul_after(data, at)? + 2;
                }
                let end = nul_after(data, at)?;
                Ok(Val::Str { off: at as u32, units: ((end - at) / 2) as u32 })
            }
            ty::ANSI => {
                let raw = bytes(data, pos, len as usize, "ANSI string array")?;
                let item = ansi_items(raw).nth(i).unwrap_or(&[]);
                Ok(ansi(item.iter().copied(), pool))
            }
            ty::SID => {
                let mut at = pos;
                for _ in 0..i {
                    at += decode_fixed(ty::SID, data, at)?.1;
                }
                Ok(decode_fixed(ty::SID, data, at)?.0)
            }
            _ => {
                let n = item_size(t).ok_or("array item type")?;
                let at = pos + i * n;
                // `t` is INT32 for booleans that are not all 0 or 1 (see `decode_array`).
                Ok(decode_fixed(t, data, at)?.0)
            }
        }
    }

    /// The value as an event field: numbers and booleans as themselves, everything else as
    /// the text the evtx crate gives it. `buf` is scratch space, so that the text is
    /// allocated once at its final size.
    pub(super) fn to_value(self, data: &[u8], pool: &str, buf: &mut String) -> Res<Value> {
        Ok(match self {
            Val::I8(v) => int(v as i64),
            Val::I16(v) => int(v as i64),
            Val::I32(v) => int(v as i64),
            Val::I64(v) => int(v),
            Val::U8(v) => Value::UInt(v as u64),
            Val::U16(v) => Value::UInt(v as u64),
            Val::U32(v) => Value::UInt(v as u64),
            Val::U64(v) => Value::UInt(v),
            Val::Bool(b) => Value::Bool(b),
            _ => {
                buf.clear();
                self.render(data, pool, buf)?;
                Value::Str(Box::from(buf.as_str()))
            }
        })
    }

    /// Appends the value's text.
    pub(super) fn render(&self, data: &[u8], pool: &str, out: &mut String) -> Res<()> {
        match *self {
            Val::Null => {}
            Val::Str { off, units } => utf16_lossy(data, off as usize, units as usize, out)?,
            Val::Ansi { start, len } => out.push_str(pool.get(start as usize..(start + len) as usize).ok_or("ANSI text out of range")?),
            Val::I8(v) => push_int(out, v as i64),
            Val::U8(v) => push_uint(out, v as u64),
            Val::I16(v) => push_int(out, v as i64),
            Val::U16(v) => push_uint(out, v as u64),
            Val::I32(v) => push_int(out, v as i64),
            Val::U32(v) => push_uint(out, v as u64),
            Val::I64(v) => push_int(out, v),
            Val::U64(v) => push_uint(out, v),
            Val::F32(v) => out.push_str(zmij::Buffer::new().format(v)),
            Val::F64(v) => out.push_str(zmij::Buffer::new().format(v)),
            Val::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Val::Binary { off, len } => {
                for b in bytes(data, off as usize, len as usize, "binary")? {
                    out.push(hex_digit(b >> 4, b'A'));
                    out.push(hex_digit(b & 15, b'A'));
                }
            }
            Val::Guid { off } => guid(&arr::<16>(data, off as usize, "GUID")?, out),
            Val::FileTime(ft) => filetime(ft, out),
            Val::SysTime { off } => systime(&arr::<16>(data, off as usize, "SYSTEMTIME")?, out),
            Val::Sid { off, len } => sid(bytes(data, off as usize, len as usize, "SID")?, out),
            Val::Hex32(v) => hex(v as u64, out),
            Val::Hex64(v) => hex(v, out),
            Val::BinXml { .. } => return Err("a BinXML value has no text".into()),
            Val::Array { .. } => {
                // One item, or the array is not where it could repeat an element: its items
                // comma-separated.
                let mut scratch = String::new();
                let items = self.items(data, &mut scratch)?;
                for (i, item) in items.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.render(data, &scratch, out)?;
                }
            }
        }
        Ok(())
    }
}

fn int(v: i64) -> Value {
    // JSON numbers read back as unsigned when they fit, as `Value::from_json` does.
    if v >= 0 { Value::UInt(v as u64) } else { Value::Int(v) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::binxml::text::TICKS_PER_DAY;

    fn text(v: Val, data: &[u8]) -> String {
        let mut s = String::new();
        v.render(data, "", &mut s).unwrap();
        s
    }

    #[test]
    fn guids_sids_and_hex_render_as_windows_shows_them() {
        // The Security-Auditing provider GUID as stored (first three groups little-endian).
        let g = [0x25, 0x96, 0x84, 0x54, 0x78, 0x54, 0x94, 0x49, 0xa5, 0xba, 0x3e, 0x3b, 0x03, 0x28, 0xc3, 0x0d];
        assert_eq!(text(Val::Guid { off: 0 }, &g), "{54849625-5478-4994-a5ba-3e3b0328c30d}");
        // S-1-5-18: revision 1, one sub-authority, authority 5, sub-authority 18.
        let s = [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
        assert_eq!(text(Val::Sid { off: 0, len: 12 }, &s), "S-1-5-18");
        assert_eq!(text(Val::Hex64(0x8020000000000000), &[]), "0x8020000000000000");
        assert_eq!(text(Val::Hex32(0), &[]), "0x0");
        assert_eq!(text(Val::Hex64(u64::MAX), &[]), "0xffffffffffffffff");
        assert_eq!(text(Val::Hex32(0x10), &[]), "0x10");
        assert_eq!(text(Val::I64(i64::MIN), &[]), "-9223372036854775808");
        assert_eq!(text(Val::U64(u64::MAX), &[]), "18446744073709551615");
        assert_eq!(text(Val::I8(0), &[]), "0");
        assert_eq!(text(Val::Binary { off: 0, len: 3 }, &[0x0a, 0xbc, 0xff]), "0ABCFF");
    }

    #[test]
    fn times_render_with_seven_fraction_digits() {
        // 132_000_000_000_000_000 ticks after 1601 is 2019-04-17T18:40:00Z (see model::time).
        let mut s = String::new();
        filetime(132_000_000_000_000_000 + 1_234_567, &mut s);
        assert_eq!(s, "2019-04-17T18:40:00.1234567Z");
        s.clear();
        filetime(0, &mut s);
        assert_eq!(s, "1601-01-01T00:00:00.0000000Z");
        s.clear();
        filetime(u64::MAX, &mut s);
        assert_eq!(s, "0000-00-00T00:00:00.0000000Z");
        // A leap day: Python's (date(2000, 2, 29) - date(1601, 1, 1)).days is 145,790.
        s.clear();
        filetime(145_790 * TICKS_PER_DAY, &mut s);
        assert_eq!(s, "2000-02-29T00:00:00.0000000Z");
        let st: Vec<u8> = [2019u16, 3, 2, 19, 23, 34, 26, 123].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(text(Val::SysTime { off: 0 }, &st), "2019-03-19T23:34:26.1230000Z");
        let bad: Vec<u8> = [2019u16, 2, 0, 30, 0, 0, 0, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(text(Val::SysTime { off: 0 }, &bad), "1601-01-01T00:00:00.0000000Z");
    }

    #[test]
    fn strings_stop_at_nul_and_ansi_is_cp1252() {
        let data: Vec<u8> = "ab\0c".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut pool = String::new();
        let (v, used) = decode_sized(ty::STRING, &data, 0, 8, &mut pool).unwrap();
        assert_eq!((text(v, &data), used), ("ab".to_string(), 8));
        let (v, _) = decode_sized(ty::STRING, &data[4..], 0, 4, &mut pool).unwrap();
        assert!(v.is_empty(), "a string that starts with NUL is empty");
        // A NUL deep in a long string, past the first 64-unit block, after non-ASCII text.
        let long = format!("{}\u{e9}{}\0tail", "a".repeat(100), "b".repeat(40));
        let units: Vec<u8> = long.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let (v, _) = decode_sized(ty::STRING, &units, 0, units.len(), &mut pool).unwrap();
        assert_eq!(text(v, &units), long.split('\0').next().unwrap());
        let (v, _) = decode_sized(ty::ANSI, b"\x80 x\0y", 0, 5, &mut pool).unwrap();
        let mut s = String::new();
        v.render(&[], &pool, &mut s).unwrap();
        assert_eq!(s, "\u{20ac} xy");
        // Lone surrogates are replaced, not dropped.
        let lone = [0x00, 0xd8, b'a', 0];
        assert_eq!(text(Val::Str { off: 0, units: 2 }, &lone), "\u{fffd}a");
        // Long text mixing ASCII, other characters and a surrogate pair across the 64-unit
        // blocks the conversion works in.
        let long = format!("{}\u{e9}{}\u{1f600}{}", "a".repeat(63), "b".repeat(63), "c".repeat(70));
        let units: Vec<u8> = long.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(text(Val::Str { off: 0, units: (units.len() / 2) as u32 }, &units), long);
    }

    #[test]
    fn arrays_count_items_and_odd_booleans_stay_numbers() {
        let data: Vec<u8> = "a\0bc\0".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut pool = String::new();
        let (v, used) = decode_sized(ty::STRING | ty::ARRAY, &data, 0, data.len(), &mut pool).unwrap();
        assert_eq!((v.expands(), used), (Some(2), data.len()));
        assert_eq!(text(v, &data), "a,bc");
        let bools: Vec<u8> = [1u32, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
        let (v, _) = decode_sized(ty::BOOL | ty::ARRAY, &bools, 0, 8, &mut pool).unwrap();
        assert_eq!(v.item(&bools, 1, &mut pool).unwrap(), Val::I32(2));
        assert!(decode_sized(ty::INT32 | ty::ARRAY, &bools, 0, 6, &mut pool).is_err());
        assert!(decode_sized(ty::STRING, &data, data.len() - 2, 8, &mut pool).is_err());
    }
}
