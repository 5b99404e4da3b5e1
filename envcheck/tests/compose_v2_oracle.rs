//! The docker compose v2 model against compose-go's real `dotenv` reader on thousands of
//! generated files (the compose-go test cases are checked in `compose_v2.rs` without it).
//! Ignored by default: it needs a build of the reader, which this repository does not
//! vendor. To run it (git, Go 1.19 or later; nothing is downloaded):
//!
//! ```sh
//! envcheck/tests/compose-go-oracle/build.sh /path/to/compose-go.git /tmp/compose-go-dotenv
//! COMPOSE_GO_DOTENV=/tmp/compose-go-dotenv \
//!     cargo test -p envcheck --test compose_v2_oracle -- --ignored
//! ```
//!
//! The oracle prints, for each file argument, `{"ok": {name: value}}` or `{"error": msg}`
//! (`ParseWithFormat` with the default format and an empty lookup, as `env_file:` runs it
//! for a caller without those variables).

use std::collections::BTreeMap;

use envcheck::parse::{compose_v2, ComposeValue};

fn files() -> Vec<Vec<u8>> {
    let mut files: Vec<Vec<u8>> = Vec::new();
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/compose-go-dotenv.json")).unwrap();
    for c in doc["cases"].as_array().unwrap() {
        if let Some(i) = c.get("input").and_then(|i| i.as_str()) {
            files.push(i.as_bytes().to_vec());
        }
    }
    const PIECES: &[&str] = &[
        "KEY", "B", "x", "=", "==", " ", "\t", "#", " #", "\t#", "'", "\"", "\\", "\\\\", "\\'",
        "\\\"", "$", "$$", "${B}", "${B:-d}", "${B-d}", "${B:+r}", "${B+r}", "${B?e}", "${", "$B",
        "}", "{", "\\$", "\\0101", "\\n", "\\c", "export ", "export\t", ";", ":", ".", "-", "[1]",
        "\n", "\r\n", "\r", "\x0b", "\x0c", "\u{85}", "\u{a0}", "\u{2028}", "é", "a b", "\u{feff}",
    ];
    let mut seed: u64 = 0x5851_f42d_4c95_7f2d;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for _ in 0..20_000 {
        let mut text = String::new();
        for _ in 0..next(4) + 1 {
            if next(2) == 0 {
                text.push_str(["KEY", "B", "x"][next(3)]);
                text.push('=');
            }
            for _ in 0..next(7) {
                text.push_str(PIECES[next(PIECES.len())]);
            }
            text.push('\n');
        }
        files.push(text.into_bytes());
    }
    files
}

#[test]
#[ignore = "needs COMPOSE_GO_DOTENV=<a build of compose-go's dotenv reader> (see the module doc)"]
fn compose_v2_model_matches_compose_go() {
    let oracle = std::env::var("COMPOSE_GO_DOTENV")
        .expect("set COMPOSE_GO_DOTENV to a build of envcheck/tests/compose-go-oracle");
    let dir = tempfile::tempdir().unwrap();
    let files = files();
    let mut mismatches = Vec::new();
    let (mut read, mut refused) = (0, 0);
    for (chunk_no, chunk) in files.chunks(500).enumerate() {
        let paths: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let p = dir.path().join(format!("{chunk_no}-{i}.env"));
                std::fs::write(&p, f).unwrap();
                p
            })
            .collect();
        let out = std::process::Command::new(&oracle)
            .args(&paths)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let real: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        for (f, real) in chunk.iter().zip(real) {
            let model = compose_v2(f).map(|es| {
                let mut m = BTreeMap::new();
                for e in es {
                    match e.value {
                        ComposeValue::Text(t) | ComposeValue::Interpolated(t) => {
                            m.insert(e.key, t);
                        }
                        // The oracle's lookup finds nothing: an earlier value stays.
                        ComposeValue::FromHost => {}
                    }
                }
                m
            });
            if real.get("ok").is_some() {
                read += 1;
            } else {
                refused += 1;
            }
            let same = match (&model, real.get("ok")) {
                (Ok(m), Some(ok)) => {
                    serde_json::from_value::<BTreeMap<String, String>>(ok.clone()).unwrap() == *m
                }
                (Err(_), None) => true,
                _ => false,
            };
            if !same {
                mismatches.push(format!(
                    "{:?}: model {model:?}, compose-go {real}",
                    String::from_utf8_lossy(f)
                ));
            }
        }
    }
    eprintln!("{read} files read, {refused} refused by compose-go");
    assert!(
        read > 2000 && refused > 2000,
        "{read} read, {refused} refused"
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} files:\n{}",
        mismatches.len(),
        files.len(),
        mismatches[..mismatches.len().min(20)].join("\n")
    );
}
