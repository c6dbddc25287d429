//! SPL: the front end in `taskhunt-querylang` parses into our own syntax tree ([`ast`]); the
//! planner here maps it onto DataFusion's DataFrame API ([`plan`]), never through SQL text.
//!
//! What runs, and how it maps Splunk's semantics onto the Arrow tables:
//!
//! - **Tables.** The first search picks a raw table: `index=sysmon` → `sysmon`;
//!   `index=wineventlog` or `index=security` → `security`; `index=taskscheduler`,
//!   `index=powershell`, `index=system`, `index=other` → those tables; `index=main`, `index=*`
//!   or no index → `main` (every event). Any other registered table may be named too
//!   (`index=DeviceProcessEvents`). `sourcetype=` and `source=` take the Windows forms
//!   `[Xml]WinEventLog:<channel>` (`WinEventLog:Security` → `security`, `...:Microsoft-Windows-
//!   Sysmon/Operational` → `sysmon`, an unlisted channel → `other` filtered on `Channel`);
//!   `sourcetype=WinEventLog`, `XmlWinEventLog` or `*` → `main`; other `source=` values filter
//!   the `source` column (the input file). `earliest=` / `latest=` (`-24h`, `-7d@d`, `now`,
//!   epoch seconds, `%m/%d/%Y:%H:%M:%S`, RFC 3339) bound `_time`, relative to the engine's `now`.
//!   These selectors must sit at the top level of the first search, not under OR or NOT.
//! - **Search.** `field=value` compares the whole value case-insensitively, `*` matching any
//!   run of characters; `field!=value` needs the field present; `NOT field=value` also keeps
//!   events without it; `< <= > >=` compare numerically when the value is a number, else as
//!   text. A bare word or quoted phrase matches any text field of the event (not `source`)
//!   case-insensitively, where it starts and ends at a token boundary (letters and digits
//!   are word characters, anything else breaks), as Splunk's segmentation would: `rundll32`
//!   matches `C:\Windows\rundll32.exe`, `rundll` does not, `rundll*` does. Precedence is
//!   Splunk's: NOT, then OR, then AND. Field names are case-sensitive; `host` means
//!   `Computer` where there is no `host` field.
//! - **Eval** (`eval`, `where`): comparisons are case-sensitive, as Splunk's eval is; a text
//!   field compared with a number is read as a number; a missing field is null and a
//!   comparison with null is not true. `+` adds numbers (text fields holding numbers count);
//!   `"literal" + text` concatenates, and `.` always does. Division by zero is null.
//! - **Order.** Events come newest first (`_time` descending), as Splunk returns them; `head`,
//!   `tail`, `dedup`, `list()`, `first()`/`last()` follow that order. `stats`, `top`, `rare`
//!   and `transaction` define their own (by-fields ascending, count, start time).
//! - **stats/top/rare.** Events missing a by-field are dropped. `top`/`rare` count the events
//!   that have every listed field; `percent` is the share of those (within each by-group),
//!   rounded to six decimals. `min`/`max` of text fields follow Splunk: numbers sort before
//!   text. `values()` is sorted and distinct, `list()` keeps event order; neither is capped.
//! - **Multivalue.** `values()`, `list()`, transaction fields and repeated `xmlkv` elements are
//!   Arrow lists. Search terms and `field=value` match any element; `stats`/`top` by a
//!   multivalue field count each value. Eval comparisons on multivalue fields are refused.
//! - Anything else — an unknown command, function, option or regex feature — is an error that
//!   names it, never a silently different answer.

mod commands;
pub mod plan;
pub(crate) mod udf;
mod xml;

/// The front end (lexer, parser, syntax tree), from `taskhunt-querylang`.
pub use taskhunt_querylang::spl::{ast, lexer, parser};

use crate::engine::Engine;
use crate::error::QueryError;
use datafusion::prelude::DataFrame;

/// Plans an SPL query over the engine's tables.
pub fn plan(engine: &Engine, text: &str) -> Result<DataFrame, QueryError> {
    let stages = taskhunt_querylang::spl::parse(text)?;
    plan::plan(engine, text, &stages)
}
