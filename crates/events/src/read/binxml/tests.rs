//! Handmade BinXML: the shapes the corpus does not have (or has only by luck), crafted to
//! push on each limit, and checked against the evtx crate where it has a say.

use crate::read::{EvtxReader, FileBatch, IssueKind, read_evtx_bytes};
use crate::{Event, Value};
use std::collections::HashMap;
use std::path::Path;

const CHUNK_AT: usize = 4096;

/// Writes BinXML into a chunk, knowing where each byte lands, so that names can be written
/// where they are first used and referred to by offset after.
struct Chunk {
    data: Vec<u8>,
    names: HashMap<String, u32>,
    ids: (u64, u64),
    last_record: usize,
}

impl Chunk {
    fn new() -> Self {
        let mut data = vec![0u8; 512];
        data[..8].copy_from_slice(b"ElfChnk\0");
        Chunk { data, names: HashMap::new(), ids: (0, 0), last_record: 512 }
    }

    fn pos(&self) -> u32 {
        self.data.len() as u32
    }

    fn u8(&mut self, b: u8) -> &mut Self {
        self.data.push(b);
        self
    }

    fn u16(&mut self, v: u16) -> &mut Self {
        self.data.extend(v.to_le_bytes());
        self
    }

    fn u32(&mut self, v: u32) -> &mut Self {
        self.data.extend(v.to_le_bytes());
        self
    }

    fn utf16(&mut self, s: &str) -> &mut Self {
        for u in s.encode_utf16() {
            self.u16(u);
        }
        self
    }

    /// A name reference, with the name itself the first time.
    fn name(&mut self, name: &str) -> &mut Self {
        if let Some(&off) = self.names.get(name) {
            return self.u32(off);
        }
        let off = self.pos() + 4;
        self.names.insert(name.to_string(), off);
        self.u32(off).u32(0).u16(0).u16(name.encode_utf16().count() as u16).utf16(name).u16(0)
    }

    /// An element start; in a template definition (`dep`) with its dependency id.
    fn open(&mut self, name: &str, attrs: bool, dep: Option<u16>) -> &mut Self {
        self.u8(if attrs { 0x41 } else { 0x01 });
        if let Some(d) = dep {
            self.u16(d);
        }
        self.u32(0).name(name);
        if attrs { self.u32(0) } else { self }
    }

    fn attr(&mut self, name: &str) -> &mut Self {
        self.u8(0x06).name(name)
    }

    fn text(&mut self, s: &str) -> &mut Self {
        self.u8(0x05).u8(0x01).u16(s.encode_utf16().count() as u16).utf16(s)
    }

    fn hole(&mut self, id: u16, ty: u8, optional: bool) -> &mut Self {
        self.u8(if optional { 0x0e } else { 0x0d }).u16(id).u8(ty)
    }

    /// `<name>text</name>` (in a definition, with no dependency).
    fn leaf(&mut self, name: &str, text: &str, def: bool) -> &mut Self {
        self.open(name, false, def.then_some(0xffff)).u8(0x02).text(text).u8(0x04)
    }

    /// A record whose BinXML `body` writes.
    fn record(&mut self, body: impl FnOnce(&mut Chunk)) -> &mut Self {
        let start = self.data.len();
        let id = self.ids.1 + 1;
        if self.ids.0 == 0 {
            self.ids.0 = id;
        }
        self.ids.1 = id;
        self.data.extend(b"\x2a\x2a\0\0");
        self.u32(0);
        self.data.extend(id.to_le_bytes());
        // 2019-03-19T00:00:00Z as a FILETIME.
        self.data.extend(131_974_560_000_000_000u64.to_le_bytes());
        self.data.extend([0x0f, 1, 1, 0]);
        body(self);
        self.u8(0x00);
        let size = (self.data.len() - start + 4) as u32;
        self.u32(size);
        self.data[start + 4..start + 8].copy_from_slice(&size.to_le_bytes());
        self.last_record = start;
        self
    }

    /// A template instance with its definition inline: `def` writes the definition's root
    /// element, `values` are (type, bytes).
    fn instance(&mut self, def: impl FnOnce(&mut Chunk), values: &[(u8, Vec<u8>)]) -> &mut Self {
        self.u8(0x0c).u8(0x01).u32(0);
        let def_off = self.pos() + 4;
        self.u32(def_off).u32(0).data.extend([0u8; 16]);
        let size_at = self.data.len();
        self.u32(0);
        let body = self.data.len();
        self.data.extend([0x0f, 1, 1, 0]);
        def(self);
        self.u8(0x00);
        let size = (self.data.len() - body) as u32;
        self.data[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
        self.u32(values.len() as u32);
        for (ty, bytes) in values {
            self.u16(bytes.len() as u16).u8(*ty).u8(0);
        }
        for (_, bytes) in values {
            self.data.extend(bytes);
        }
        self
    }

    /// The whole file: a file header and this chunk, with sizes and checksums filled in.
    fn file(&self) -> Vec<u8> {
        let mut chunk = self.data.clone();
        let free = chunk.len() as u32;
        chunk.resize(65536, 0);
        chunk[24..32].copy_from_slice(&self.ids.0.to_le_bytes());
        chunk[32..40].copy_from_slice(&self.ids.1.to_le_bytes());
        chunk[44..48].copy_from_slice(&(self.last_record as u32).to_le_bytes());
        chunk[48..52].copy_from_slice(&free.to_le_bytes());
        let records = crc32fast::hash(&chunk[512..free as usize]);
        chunk[52..56].copy_from_slice(&records.to_le_bytes());
        let mut h = crc32fast::Hasher::new();
        h.update(&chunk[..120]);
        h.update(&chunk[128..512]);
        chunk[124..128].copy_from_slice(&h.finalize().to_le_bytes());
        let mut file = vec![0u8; CHUNK_AT];
        file[..8].copy_from_slice(b"ElfFile\0");
        file[32..36].copy_from_slice(&128u32.to_le_bytes());
        file[40..42].copy_from_slice(&4096u16.to_le_bytes());
        file[42..44].copy_from_slice(&1u16.to_le_bytes());
        let crc = crc32fast::hash(&file[..120]);
        file[124..128].copy_from_slice(&crc.to_le_bytes());
        file.extend(chunk);
        file
    }
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect()
}

/// A System header written as literal text, enough for an event.
fn system(c: &mut Chunk, def: bool) {
    let dep = def.then_some(0xffff);
    c.open("System", false, dep).u8(0x02);
    c.open("Provider", true, dep).attr("Name").text("Test").u8(0x03);
    c.leaf("EventID", "7", def);
    c.open("TimeCreated", true, dep).attr("SystemTime").text("2019-03-19T00:00:00.0000000Z").u8(0x03);
    c.u8(0x04);
}

/// Reads a file with both decoders; they must agree, and ours is returned.
fn read_both(file: &[u8]) -> FileBatch {
    let path = Path::new("crafted.evtx");
    let ours = read_evtx_bytes(path, file, EvtxReader::Own);
    let theirs = read_evtx_bytes(path, file, EvtxReader::Crate);
    assert_eq!(ours.events.len(), theirs.events.len(), "ours {:?}\ncrate {:?}", ours.issues, theirs.issues);
    for (a, b) in ours.events.iter().zip(&theirs.events) {
        assert_eq!((&a.system, &a.fields), (&b.system, &b.fields));
    }
    let lost = |b: &FileBatch| b.issues.iter().map(|i| i.records_skipped).sum::<u64>();
    assert_eq!(lost(&ours), lost(&theirs), "ours {:?}\ncrate {:?}", ours.issues, theirs.issues);
    ours
}

fn field<'e>(e: &'e Event, name: &str) -> Option<&'e Value> {
    e.fields.get_str(name)
}

#[test]
fn event_data_shapes_name_number_and_gather_as_the_evtx_crate_does() {
    let mut c = Chunk::new();
    // Named Data, one of them twice in a row (an array) and once more later (numbered),
    // an empty one, and a non-Data element.
    c.record(|c| {
        c.open("Event", true, None).attr("xmlns").text("http://schemas.microsoft.com/win/2004/08/events/event").u8(0x02);
        system(c, false);
        c.open("EventData", false, None).u8(0x02);
        for (name, value) in [("A", "1"), ("B", "x"), ("B", "y"), ("C", ""), ("A", "2")] {
            c.open("Data", true, None).attr("Name").text(name).u8(0x02).text(value).u8(0x04);
        }
        c.leaf("Binary", "00FF", false);
        c.u8(0x04).u8(0x04);
    });
    // Unnamed Data, three of them, and UserData whose leaves repeat a name.
    c.record(|c| {
        c.open("Event", false, None).u8(0x02);
        system(c, false);
        c.open("EventData", false, None).u8(0x02);
        for value in ["p", "q", "r"] {
            c.leaf("Data", value, false);
        }
        c.u8(0x04).u8(0x04);
    });
    c.record(|c| {
        c.open("Event", false, None).u8(0x02);
        system(c, false);
        c.open("UserData", false, None).u8(0x02).open("Log", true, None).attr("xmlns").text("urn:x").u8(0x02);
        c.leaf("Param", "one", false).leaf("Param", "two", false).u8(0x04);
        c.u8(0x04).u8(0x04);
    });
    let batch = read_both(&c.file());
    assert!(batch.issues.is_empty(), "{:?}", batch.issues);
    let [named, unnamed, user] = &batch.events[..] else { panic!("{} events", batch.events.len()) };
    assert_eq!(field(named, "A"), Some(&Value::str("1")));
    assert_eq!(field(named, "B"), Some(&Value::Array(vec![Value::str("x"), Value::str("y")])));
    assert_eq!(field(named, "C"), Some(&Value::str("")), "empty named Data is \"\"");
    assert_eq!(field(named, "A_1"), Some(&Value::str("2")));
    assert_eq!(field(named, "Binary"), Some(&Value::str("00FF")));
    assert_eq!(named.system.get_str("Provider_Name"), Some(&Value::str("Test")));
    assert_eq!(named.system.get_str("EventID"), Some(&Value::str("7")));
    assert_eq!(named.timestamp.to_string(), "2019-03-19T00:00:00.0000000Z");
    let data = || Value::Array(["p", "q", "r"].map(Value::str).to_vec());
    assert_eq!(field(unnamed, "Data"), Some(&data()));
    assert_eq!(field(user, "Param"), Some(&Value::str("one")));
    assert_eq!(field(user, "Param_1"), Some(&Value::str("two")));
    assert_eq!(user.fields.len(), 2, "xmlns is left out: {:?}", user.fields);
}

/// The shapes the streaming flattener hands to the JSON document instead (see `sink`): they
/// must still read exactly as the evtx crate's JSON does.
#[test]
fn documents_the_fast_path_gives_up_on_read_as_json_does() {
    let mut c = Chunk::new();
    // A Data name that is also a child element's name: JSON keeps the later value.
    c.record(|c| {
        c.open("Event", false, None).u8(0x02);
        system(c, false);
        c.open("EventData", false, None).u8(0x02);
        c.open("Data", true, None).attr("Name").text("Dup").u8(0x02).text("first").u8(0x04);
        c.leaf("Dup", "second", false);
        c.u8(0x04).u8(0x04);
    });
    // Unnamed Data elements holding elements: objects in the "Data" array.
    c.record(|c| {
        c.open("Event", false, None).u8(0x02);
        system(c, false);
        c.open("EventData", false, None).u8(0x02);
        for v in ["a", "b"] {
            c.open("Data", false, None).u8(0x02).leaf("Inner", v, false).u8(0x04);
        }
        c.u8(0x04).u8(0x04);
    });
    // UserData before EventData.
    c.record(|c| {
        c.open("Event", false, None).u8(0x02);
        system(c, false);
        c.open("UserData", false, None).u8(0x02).leaf("U", "1", false).u8(0x04);
        c.open("EventData", false, None).u8(0x02).leaf("Data", "2", false).u8(0x04);
        c.u8(0x04);
    });
    let batch = read_both(&c.file());
    assert!(batch.issues.is_empty(), "{:?}", batch.issues);
    assert_eq!(field(&batch.events[0], "Dup"), Some(&Value::str("second")));
    let Some(Value::Array(items)) = field(&batch.events[1], "Data") else { panic!("{:?}", batch.events[1].fields) };
    assert_eq!(items[0], Value::str(r#"{"Inner":"a"}"#), "an object in an array is its JSON text");
    let names: Vec<&str> = batch.events[2].fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Data", "U"], "EventData's fields come first");
}

#[test]
fn templates_fill_typed_values_and_leave_out_what_is_empty() {
    let def = |c: &mut Chunk| {
        c.open("Event", false, Some(0xffff)).u8(0x02);
        c.open("System", false, Some(0xffff)).u8(0x02);
        c.open("Provider", true, Some(0xffff)).attr("Name").text("Test").u8(0x03);
        c.open("EventID", false, Some(0xffff)).u8(0x02).hole(0, 0x06, false).u8(0x04);
        c.open("TimeCreated", true, Some(0xffff)).attr("SystemTime").hole(1, 0x11, false).u8(0x03);
        c.open("Correlation", true, Some(0xffff)).attr("ActivityID").hole(2, 0x0f, true).u8(0x03);
        c.u8(0x04);
        c.open("EventData", false, Some(0xffff)).u8(0x02);
        for (i, name) in ["Sid", "Flags", "Count", "When", "Gone"].iter().enumerate() {
            // "Gone" depends on its own value, 7, whose NullType leaves it out.
            let dep = if *name == "Gone" { 7 } else { 0xffff };
            c.open("Data", true, Some(dep)).attr("Name").text(name).u8(0x02).hole(3 + i as u16, 0x01, true).u8(0x04);
        }
        c.u8(0x04).u8(0x04);
    };
    let sid = vec![1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
    let guid: Vec<u8> = (1..=16).collect();
    let mut c = Chunk::new();
    for (flags, count, correlation) in [(0x3e7u32, -5i64, (0x0f, guid)), (0, 7, (0x00, vec![]))] {
        let values = vec![
            (0x06, 4625u16.to_le_bytes().to_vec()),
            (0x11, 132_000_000_000_000_000u64.to_le_bytes().to_vec()),
            correlation,
            (0x13, sid.clone()),
            (0x14, flags.to_le_bytes().to_vec()),
            (0x09, count.to_le_bytes().to_vec()),
            (0x12, [2019u16, 3, 2, 19, 23, 34, 26, 123].iter().flat_map(|v| v.to_le_bytes()).collect()),
            (0x00, vec![]),
        ];
        c.record(|c| {
            c.instance(def, &values);
        });
    }
    let batch = read_both(&c.file());
    assert!(batch.issues.is_empty(), "{:?}", batch.issues);
    let e = &batch.events[0];
    assert_eq!(e.event_id, 4625);
    assert_eq!(e.timestamp.to_string(), "2019-04-17T18:40:00.0000000Z");
    assert_eq!(e.system.get_str("Correlation_ActivityID"), Some(&Value::str("{04030201-0605-0807-090a-0b0c0d0e0f10}")));
    assert_eq!(field(e, "Sid"), Some(&Value::str("S-1-5-18")));
    assert_eq!(field(e, "Flags"), Some(&Value::str("0x3e7")));
    assert_eq!(field(e, "Count"), Some(&Value::Int(-5)));
    assert_eq!(field(e, "When"), Some(&Value::str("2019-03-19T23:34:26.1230000Z")));
    assert_eq!(field(e, "Gone"), None, "left out by its NullType dependency");
    // The second record has the same template; its ActivityID is NullType, the optional
    // substitution leaves the attribute out, and Correlation is then null.
    let e = &batch.events[1];
    assert_eq!(e.system.get_str("Correlation"), Some(&Value::Null));
    assert_eq!((field(e, "Flags"), field(e, "Count")), (Some(&Value::str("0x0")), Some(&Value::UInt(7))));
}

#[test]
fn array_values_repeat_their_element() {
    let def = |c: &mut Chunk| {
        c.open("Event", false, Some(0xffff)).u8(0x02);
        system(c, true);
        c.open("EventData", false, Some(0xffff)).u8(0x02);
        c.open("Data", true, Some(0xffff)).attr("Name").text("List").u8(0x02).hole(0, 0x81, false).u8(0x04);
        c.u8(0x04).u8(0x04);
    };
    let mut c = Chunk::new();
    let items: Vec<u8> = ["a", "", "c"].iter().flat_map(|s| utf16z(s)).collect();
    c.record(|c| {
        c.instance(def, &[(0x81, items.clone())]);
    });
    let batch = read_both(&c.file());
    let list = Value::Array(vec![Value::str("a"), Value::str(""), Value::str("c")]);
    assert_eq!(field(&batch.events[0], "List"), Some(&list));
}

/// A record that fails, followed by one that reads: only the first is lost.
fn fails_alone(bad: impl FnOnce(&mut Chunk), why: &str) {
    let mut c = Chunk::new();
    c.record(bad);
    c.record(|c| {
        c.open("Event", false, None).u8(0x02);
        system(c, false);
        c.u8(0x04);
    });
    let batch = read_both(&c.file());
    assert_eq!(batch.events.len(), 1, "{why}");
    assert_eq!(batch.issues.len(), 1, "{why}: {:?}", batch.issues);
    assert_eq!(batch.issues[0].kind, IssueKind::CorruptRecord, "{why}");
}

#[test]
fn hostile_nesting_fails_the_record_not_the_process() {
    fails_alone(
        |c| {
            for _ in 0..5000 {
                c.open("E", false, None).u8(0x02);
            }
            for _ in 0..5000 {
                c.u8(0x04);
            }
        },
        "elements nested 5000 deep",
    );
    fn nest(c: &mut Chunk, levels: usize) {
        c.open("E", false, None).u8(0x02);
        if levels > 0 {
            c.u8(0x05).u8(0x21);
            let len_at = c.data.len();
            c.u16(0);
            let start = c.data.len();
            nest(c, levels - 1);
            let len = (c.data.len() - start) as u16;
            c.data[len_at..len_at + 2].copy_from_slice(&len.to_le_bytes());
        }
        c.u8(0x04);
    }
    fails_alone(|c| nest(c, 100), "BinXML values nested 100 deep");
}

/// A record whose template nests `depth` elements below `Event`'s, with a value at the
/// bottom: copying it and rendering it recurse once per level.
fn deep(depth: usize) -> Vec<u8> {
    let def = |c: &mut Chunk| {
        c.open("Event", false, Some(0xffff)).u8(0x02);
        system(c, true);
        for _ in 0..depth {
            c.open("E", false, Some(0xffff)).u8(0x02);
        }
        c.hole(0, 0x01, false);
        for _ in 0..depth + 1 {
            c.u8(0x04);
        }
    };
    let mut c = Chunk::new();
    for _ in 0..2 {
        c.record(|c| {
            c.instance(def, &[(0x01, utf16z("deep"))]);
        });
    }
    c.file()
}

/// Decodes on a thread with the 2 MiB stack rayon's workers have (in a debug build too).
fn on_small_stack(file: Vec<u8>) -> FileBatch {
    let read = move || read_evtx_bytes(Path::new("deep.evtx"), &file, EvtxReader::Own);
    std::thread::Builder::new().stack_size(2 << 20).spawn(read).unwrap().join().unwrap()
}

#[test]
fn deep_templates_decode_within_the_stack() {
    let batch = on_small_stack(deep(250));
    assert_eq!(batch.events.len(), 2, "{:?}", batch.issues);
    // As deep as the evtx crate allows: the records fail, the process does not.
    let batch = on_small_stack(deep(510));
    assert!(batch.events.is_empty());
    assert_eq!(batch.issues.len(), 2, "{:?}", batch.issues);
    assert!(batch.issues.iter().all(|i| i.kind == IssueKind::CorruptRecord));
}

#[test]
fn arrays_that_multiply_elements_are_bounded() {
    // One element with 24 arrays of two items each would be 2^24 copies of it.
    let def = |c: &mut Chunk| {
        c.open("Event", false, Some(0xffff)).u8(0x02);
        c.open("A", false, Some(0xffff)).u8(0x02);
        for i in 0..24 {
            c.hole(i, 0x81, false);
        }
        c.u8(0x04).u8(0x04);
    };
    let two: Vec<u8> = ["x", "y"].iter().flat_map(|s| utf16z(s)).collect();
    let values: Vec<(u8, Vec<u8>)> = (0..24).map(|_| (0x81, two.clone())).collect();
    fails_alone(
        |c| {
            c.instance(def, &values);
        },
        "2^24 copies",
    );
}

#[test]
fn random_records_never_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..300 {
        let mut c = Chunk::new();
        let len = (next() % 3000) as usize;
        let noise: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        c.record(|c| {
            // Mostly tokens and small numbers, so that the noise gets past the first byte.
            c.data.extend(noise.iter().map(|b| if b % 2 == 0 { b % 16 } else { *b }));
        });
        let batch = read_evtx_bytes(Path::new("noise.evtx"), &c.file(), EvtxReader::Own);
        assert!(batch.events.len() + batch.issues.len() >= 1);
    }
}

/// Invalid UTF-16 (a lone high surrogate, then a lone low one) comes out as U+FFFD in place,
/// with the text around it kept, and the event serializes to valid JSON.
#[test]
fn invalid_utf16_is_replaced_visibly() {
    let def = |c: &mut Chunk| {
        c.open("Event", false, Some(0xffff)).u8(0x02);
        system(c, true);
        c.open("EventData", false, Some(0xffff)).u8(0x02);
        c.open("Data", true, Some(0xffff)).attr("Name").text("CommandLine").u8(0x02).hole(0, 0x01, false).u8(0x04);
        c.u8(0x04).u8(0x04);
    };
    let units: Vec<u16> = "ab".encode_utf16().chain([0xd800]).chain("cd".encode_utf16()).chain([0xdc00, 0x65]).collect();
    let value: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
    let mut c = Chunk::new();
    c.record(|c| {
        c.instance(def, &[(0x01, value.clone())]);
    });
    let batch = read_evtx_bytes(Path::new("crafted.evtx"), &c.file(), EvtxReader::Own);
    assert!(batch.issues.is_empty(), "{:?}", batch.issues);
    assert_eq!(field(&batch.events[0], "CommandLine"), Some(&Value::str("ab\u{fffd}cd\u{fffd}e")));
    let json = serde_json::to_string(&batch.events[0].fields).unwrap();
    assert!(json.contains("ab\u{fffd}cd\u{fffd}e"), "{json}");
}
