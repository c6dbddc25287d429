//! `taskhunt decode`: a command line (find `-EncodedCommand` and peel it) and a bare script
//! (peel base64, compression, char arrays, string reversal ...), layer by layer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskhunt_tasks::powershell::{decode_command_line, decode_script, find_encoded_command};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = find_encoded_command(text);
    if let Some(d) = decode_command_line(text) {
        let _ = d.innermost();
    }
    let d = decode_script(text);
    let _ = d.kinds();
});
