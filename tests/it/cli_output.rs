//! The CLI's output hygiene (issue 17): a closed pipe, errors under `--json`,
//! `--version`.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::*;

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_completeness"));
    for var in [
        "COMPLETENESS_WAREHOUSE",
        "COMPLETENESS_RUN_DIR",
        "COMPLETENESS_CONFIG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    // The reading end is closed before the process starts, so its first write fails
    // (`completeness … | head -0`), every time.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = binary()
        .args(["--warehouse"])
        .arg(sample_warehouse())
        .args(["check", "summary", "--sql"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(!stderr.contains("Broken pipe"), "stderr: {stderr}");
}

#[test]
fn an_error_under_json_is_one_json_document_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-warehouse");
    let out = cli()
        .arg("--json")
        .arg("--warehouse")
        .arg(&missing)
        .args(["check", "summary"])
        .assert()
        .code(2);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let doc: Value = serde_json::from_str(&stdout).expect("stdout is one JSON document");
    assert_eq!(doc["error"]["kind"], "input", "{doc}");
    assert_eq!(doc["error"]["exit_code"], 2, "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(message.contains("no-such-warehouse"), "{message}");
}

#[test]
fn version_names_the_commit() {
    let out = cli().arg("--version").assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_string());
    let expected = match head {
        Some(hash) => format!("(commit {hash})"),
        None => "(commit unknown)".to_string(),
    };
    assert!(
        stdout.starts_with(&format!("completeness {}", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );
    assert!(stdout.contains(&expected), "{stdout} lacks {expected}");
}

#[test]
fn views_under_json_are_a_document_of_their_ddl() {
    let out = cli().args(["--json", "views"]).assert().success();
    let doc: Value = serde_json::from_slice(&out.get_output().stdout).expect("one JSON document");
    let views = doc["views"].as_array().expect("a list of views");
    let names: Vec<&str> = views.iter().map(|v| v["view"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "nba_predictions.v_historical_completeness_daily",
            "nba_predictions.v_incomplete_features",
            "nba_predictions.v_completeness_daily_90d"
        ]
    );
    for view in views {
        let sql = view["sql"].as_str().unwrap();
        let name = view["view"].as_str().unwrap();
        assert!(
            sql.contains(&format!("CREATE OR REPLACE VIEW `{name}`")),
            "{sql}"
        );
        assert!(!sql.contains("{dataset}") && !sql.contains("{features_table}"));
    }
    // Without --json the same statements, as a script.
    let plain = cli().arg("views").assert().success();
    let script = String::from_utf8(plain.get_output().stdout.clone()).unwrap();
    for view in views {
        assert!(script.contains(view["sql"].as_str().unwrap()));
    }
}

#[test]
fn completions_and_the_man_page_come_from_the_cli_definitions() {
    let bash = cli().args(["completions", "bash"]).assert().success();
    let bash = String::from_utf8(bash.get_output().stdout.clone()).unwrap();
    for word in [
        "completeness",
        "backfill",
        "--dry-run",
        "spot-check",
        "--include-bootstrap",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let zsh = cli().args(["completions", "zsh"]).assert().success();
    assert!(String::from_utf8_lossy(&zsh.get_output().stdout).starts_with("#compdef completeness"));
    cli().args(["completions", "tcsh"]).assert().code(2);
    let man = cli().arg("man").assert().success();
    let man = String::from_utf8(man.get_output().stdout.clone()).unwrap();
    assert!(
        man.contains(".TH completeness 1"),
        "{}",
        &man[..200.min(man.len())]
    );
    for word in ["backfill", "rollback", "doctor"] {
        assert!(man.contains(word), "the man page lacks {word}");
    }
}

/// `-v` turns on the debug events (phases, with their timings) on stderr; under
/// `--json` each of them is a JSON line, and without `-v` there are none.
#[test]
fn verbose_shows_debug_events_as_text_or_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let args = ["export", "--start", "2026-01-20", "--end", "2026-01-22"];
    let stderr = |extra: &[&str]| {
        let out = cli_at(&sample_warehouse(), &runs)
            .args(extra)
            .args(args)
            .env_remove("RUST_LOG")
            .assert()
            .success();
        String::from_utf8(out.get_output().stderr.clone()).unwrap()
    };
    let quiet = stderr(&[]);
    assert!(!quiet.contains("phase started"), "{quiet}");
    let text = stderr(&["-v"]);
    assert!(text.contains("phase started"), "{text}");
    assert!(text.contains("elapsed_ms"), "{text}");
    let json = stderr(&["-v", "--json"]);
    let events: Vec<Value> = json
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["fields"]["message"] == "phase done" && e["fields"]["elapsed_ms"].is_u64()),
        "{json}"
    );
}

/// A command's `--help` keeps the global flags under their own heading, apart from its
/// own, and says when `--start`/`--end` are required.
#[test]
fn help_separates_global_flags_and_says_what_is_required() {
    let out = binary().args(["backfill", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let global = help.find("Global options:").expect("a global heading");
    let own = help.find("--dry-run").expect("backfill's own flag");
    let json = help.find("--json").expect("the global --json");
    assert!(own < global && global < json, "{help}");
    assert_eq!(
        help.matches("required unless --resume").count(),
        2,
        "{help}"
    );
}

/// An exit-3 failure (the environment, not the input) under `--json` is one JSON
/// document too, naming the path it could not write.
#[test]
fn an_io_failure_under_json_is_a_json_error_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let out = binary()
        .arg("--json")
        .arg("--warehouse")
        .arg(sample_warehouse())
        .args(["samples", "inputs", "--out"])
        .arg(blocker.join("inputs"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["error"]["kind"], "io", "{doc}");
    assert_eq!(doc["error"]["exit_code"], 3, "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(message.contains("a-file"), "{message}");
}

/// Every page the man page refers to (`completeness-backfill(1)`, …) is generated:
/// `man --out DIR` writes them all (issue 25, item 19).
#[test]
fn man_writes_every_page_the_man_pages_refer_to() {
    let dir = tempfile::tempdir().unwrap();
    cli()
        .args(["man", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let pages: std::collections::BTreeSet<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(pages.contains("completeness.1"), "{pages:?}");
    let mut referred = 0;
    for page in &pages {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        for (i, _) in text.match_indices("(1)") {
            let name: String = text[..i]
                .chars()
                .rev()
                .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '\\')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<String>()
                .replace("\\-", "-");
            if name.starts_with("completeness") {
                referred += 1;
                assert!(
                    pages.contains(&format!("{name}.1")),
                    "{page} refers to {name}(1)"
                );
            }
        }
    }
    assert!(referred > 5, "the pages refer to their subcommands' pages");
}

/// The global flags' environment variables are named in `--help` without an empty
/// `=` value, and a variable that is set does not turn its flag into a required part
/// of a usage line (issue 25, item 19).
#[test]
fn help_names_environment_variables_and_usage_omits_what_they_set() {
    let out = binary().args(["backfill", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("COMPLETENESS_WAREHOUSE"), "{help}");
    assert!(!help.contains("COMPLETENESS_WAREHOUSE=]"), "{help}");
    assert!(!help.contains("COMPLETENESS_CONFIG=]"), "{help}");
    let out = binary()
        .env("COMPLETENESS_WAREHOUSE", "/nowhere")
        .arg("backfill")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let usage = stderr.lines().find(|l| l.starts_with("Usage:")).unwrap();
    assert_eq!(
        usage, "Usage: completeness backfill --start <START> --end <END>",
        "{stderr}"
    );
}

/// `-v` on any command names the warehouse, run directory and config in use and each
/// query with its time, timestamped and without colour codes when stderr is not a
/// terminal; `-vv` adds more (this crate's trace events and the dependencies'); the
/// checks, spot-check, rollback, runs and report daily say more than the config
/// (issue 25, item 18).
#[test]
fn verbose_names_the_setup_and_every_query_on_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let stderr = |args: &[&str]| {
        let out = cli_at(&sample_warehouse(), &runs)
            .args(args)
            .env_remove("RUST_LOG")
            .assert();
        String::from_utf8(out.get_output().stderr.clone()).unwrap()
    };
    let wh = dir.path().join("wh");
    copy_dir(&sample_warehouse(), &wh);
    let backfill = ["backfill", "--start", "2026-01-22", "--end", "2026-01-22"];
    cli_at(&wh, &runs).args(backfill).assert().success();
    let run = only_run_id(&runs);
    let out = cli_at(&wh, &runs)
        .args(["-v", "rollback", &run, "--dry-run"])
        .env_remove("RUST_LOG")
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(text.contains("query queries/rollback_rows.sql: "), "{text}");
    let commands: [&[&str]; 4] = [
        &["check", "summary", "--end", "2026-01-22", "--days", "3"],
        &[
            "spot-check",
            "--date",
            "2026-01-20",
            "--count",
            "2",
            "--seed",
            "1",
        ],
        &["runs"],
        &[
            "report",
            "daily",
            "--end",
            "2026-01-22",
            "--days",
            "2",
            "--out",
        ],
    ];
    for command in commands {
        let mut args: Vec<String> = std::iter::once("-v".to_string())
            .chain(command.iter().map(|s| s.to_string()))
            .collect();
        if args.last().map(String::as_str) == Some("--out") {
            args.push(dir.path().join("daily").display().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let text = stderr(&args);
        assert!(
            !text.contains('\u{1b}'),
            "colour codes in a redirected stderr: {text}"
        );
        let events: Vec<&str> = text.lines().filter(|l| l.contains("DEBUG")).collect();
        assert!(
            events
                .iter()
                .all(|l| l.as_bytes()[..4].iter().all(u8::is_ascii_digit)),
            "every event starts with a timestamp: {text}"
        );
        for word in ["warehouse", "run dir", "config"] {
            assert!(
                text.contains(word),
                "{command:?}: -v names the {word}: {text}"
            );
        }
        if command[0] != "runs" {
            assert!(
                events
                    .iter()
                    .any(|l| l.contains("query") && l.contains("ms")),
                "{command:?}: -v shows each query with its time: {text}"
            );
        }
    }
    let v = stderr(&[
        "-v",
        "check",
        "summary",
        "--end",
        "2026-01-22",
        "--days",
        "3",
    ]);
    let vv = stderr(&[
        "-vv",
        "check",
        "summary",
        "--end",
        "2026-01-22",
        "--days",
        "3",
    ]);
    assert!(
        vv.lines().count() > v.lines().count(),
        "-vv says more than -v:\n{vv}"
    );
}

/// Run `args` with stdout and stderr on a pseudo-terminal (`script`), as an operator
/// sees it; what the terminal received. The terminal is named (`TERM`), as an operator's
/// is: CI runs the tests with an empty environment, where none is.
fn on_a_terminal(args: &[String]) -> String {
    let line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_completeness").to_string())
        .chain(args.iter().cloned())
        .map(|a| format!("'{a}'"))
        .collect();
    let out = Command::new("script")
        .args(["-qec", &line.join(" "), "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("COMPLETENESS_WAREHOUSE")
        .env_remove("COMPLETENESS_RUN_DIR")
        .env_remove("COMPLETENESS_CONFIG")
        .output()
        .expect("script (util-linux) runs the command on a pseudo-terminal");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits of more than a second show a spinner on a terminal: `samples generate` and
/// `rollback` (issue 25, item 17).
#[test]
fn samples_generate_and_rollback_show_progress_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    let args = |list: &[&str]| -> Vec<String> { list.iter().map(|s| s.to_string()).collect() };
    let shown = on_a_terminal(&args(&[
        "samples",
        "generate",
        "--out",
        &wh.display().to_string(),
        "--start",
        "2025-10-01",
        "--end",
        "2025-12-31",
    ]));
    assert!(shown.contains("generating the sample warehouse"), "{shown}");
    let runs = dir.path().join("runs");
    cli_at(&wh, &runs)
        .args(["backfill", "--start", "2025-12-20", "--end", "2025-12-31"])
        .assert()
        .success();
    let run = only_run_id(&runs);
    let shown = on_a_terminal(&args(&[
        "--warehouse",
        &wh.display().to_string(),
        "--run-dir",
        &runs.display().to_string(),
        "rollback",
        &run,
    ]));
    assert!(shown.contains("rolling back"), "{shown}");
}

/// Numbers of four or more digits in `text` that are not grouped as 12,345: counts.
/// Dates, run ids, paths, game ids (`0022500354`, zero-led) and times are not counts.
fn ungrouped_numbers(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || "|│┆(),;:`".contains(c)) {
        let digits = word.trim_matches(|c: char| !c.is_ascii_digit());
        let is_count = digits.len() >= 4
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
            && !word.contains(['/', '-', '.', 'T', '_']);
        if is_count {
            found.push(word.to_string());
        }
    }
    found
}

#[test]
fn the_number_checker_tells_counts_from_dates_ids_and_paths() {
    let text = "46200 feature records on 2026-01-22 | 2,059 | run 20261206T204839Z-88833e \
                in /tmp/1234/x, game 0022500354, early season | 2059 |";
    assert_eq!(ungrouped_numbers(text), ["46200", "2059"]);
}

/// Issue 25 item 15: one number format (12,345) everywhere: `samples generate`'s line and
/// a dry run's report.md (its reasons table) over the whole sample.
#[test]
fn counts_of_a_thousand_or_more_are_grouped_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let generated = cli()
        .args(["samples", "generate", "--out"])
        .arg(dir.path().join("wh"))
        .assert()
        .success();
    let said = String::from_utf8_lossy(&generated.get_output().stdout).into_owned();
    assert!(said.contains("feature records"), "{said}");
    assert_eq!(ungrouped_numbers(&said), Vec::<String>::new(), "{said}");

    let runs = dir.path().join("runs");
    let wh = sample_warehouse();
    let planned = cli_at(&wh, &runs)
        .args([
            "backfill",
            "--dry-run",
            "--start",
            "2024-10-22",
            "--end",
            "2026-01-22",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&planned.get_output().stdout).into_owned();
    assert_eq!(ungrouped_numbers(&stdout), Vec::<String>::new(), "{stdout}");
    let run = only_run(&runs);
    let markdown = std::fs::read_to_string(run.join("report/report.md")).unwrap();
    assert!(markdown.contains("| reason | records |"), "{markdown}");
    assert_eq!(
        ungrouped_numbers(&markdown),
        Vec::<String>::new(),
        "{markdown}"
    );
}

/// The lines of a terminal table (its borders and rows).
fn table_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with(['┌', '│', '├', '╞', '└', '╭', '╰']))
        .collect()
}

/// Issue 25 item 16: at 80 and 100 columns (`COLUMNS`) the tables of `check summary`
/// and `runs` fit, or give one record per block; at 100 the 20-day summary stays a
/// table; run ids (the arguments of every command) are never cut.
#[test]
fn tables_fit_80_and_100_columns_and_never_cut_a_run_id() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let wh = copy_of_samples(dir.path());
    for range in [["2026-01-20", "2026-01-22"], ["2026-01-10", "2026-01-12"]] {
        cli_at(&wh, &runs)
            .args([
                "backfill",
                "--dry-run",
                "--start",
                range[0],
                "--end",
                range[1],
            ])
            .assert()
            .success();
    }
    let ids: Vec<String> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for columns in [80usize, 100] {
        let text = |args: &[&str]| {
            let out = cli_at(&wh, &runs)
                .env("COLUMNS", columns.to_string())
                .args(args)
                .assert()
                .success();
            String::from_utf8_lossy(&out.get_output().stdout).into_owned()
        };
        let summary = text(&["check", "summary", "--end", "2026-01-22", "--days", "20"]);
        let listed = text(&["runs"]);
        for (what, out) in [("check summary", &summary), ("runs", &listed)] {
            for line in table_lines(out) {
                assert!(
                    line.chars().count() <= columns,
                    "{what} at {columns} columns: {line}\n{out}"
                );
            }
        }
        if columns == 100 {
            assert!(!summary.contains("-[ record"), "a table at 100:\n{summary}");
            assert!(summary.lines().count() < 60, "{summary}");
        }
        for id in &ids {
            assert!(
                listed.contains(id.as_str()),
                "{id} whole at {columns}:\n{listed}"
            );
        }
    }
}

/// Issue 25 item 16: at 80 and 100 columns the prose of a dry run, a merge, a rollback,
/// the checks (the cascade warning among them) and the daily report fits: a longer line
/// is only a command on its own, and no command between backticks is cut.
#[test]
fn prose_fits_80_and_100_columns_and_commands_stay_whole() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let wh = copy_of_samples(dir.path());
    for columns in [80usize, 100] {
        let said = |args: &[&str]| {
            let out = cli_at(&wh, &runs)
                .env("COLUMNS", columns.to_string())
                .args(args)
                .assert()
                .success();
            let out = out.get_output();
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr)
        };
        let planned = said(&[
            "backfill",
            "--dry-run",
            "--start",
            "2026-01-15",
            "--end",
            "2026-01-22",
        ]);
        let run = std::fs::read_dir(&runs)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with("daily"))
            .max()
            .unwrap();
        let outputs = [
            planned,
            said(&["merge", "--run", &run]),
            said(&["rollback", &run, "--dry-run"]),
            said(&["check", "summary", "--end", "2026-01-22", "--days", "10"]),
            said(&["check", "cascade", "--backfill-date", "2025-01-01"]),
            said(&["report", "daily", "--days", "10"]),
        ];
        for text in &outputs {
            for line in text.lines().filter(|l| l.chars().count() > columns) {
                let alone = line
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(['.', ',', ';', ')']);
                let one_command = alone.starts_with('`')
                    && alone.ends_with('`')
                    && alone.matches('`').count() == 2;
                assert!(
                    one_command || line.starts_with(['┌', '│', '├', '╞', '└']),
                    "wider than {columns}: {line}\n{text}"
                );
            }
            for command in text.split('`').skip(1).step_by(2) {
                assert!(!command.contains('\n'), "a command cut: {command}\n{text}");
            }
        }
        said(&["rollback", &run]);
    }
}
