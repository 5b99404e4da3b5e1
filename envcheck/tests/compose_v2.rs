//! The docker compose v2 model ([`envcheck::parse::compose_v2_with`]) against compose-go's
//! own test cases: `fixtures/compose-go-dotenv.json` holds every input and expected value of
//! compose-go v2.11.0's `dotenv` tests (as data). A case the model reads differently fails
//! this test; the tests that are not about reading a file's content are listed in the
//! fixture's `not_cases`, each with its reason.

use std::collections::BTreeMap;

use envcheck::parse::{compose_v2_with, ComposeValue};
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/compose-go-dotenv.json");

/// `func Test...` in compose-go v2.11.0's `dotenv/*_test.go`.
const COMPOSE_GO_TESTS: usize = 39;

/// What docker compose v2 ends up with after reading `files` in order into one map, the way
/// `GetEnvFromFile` does: the caller's environment first, then the values so far.
fn read(
    files: &[String],
    host: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for f in files {
        let lookup = |k: &str| host.get(k).cloned();
        for e in compose_v2_with(f.as_bytes(), &lookup, &map.clone())? {
            match e.value {
                ComposeValue::Text(v) | ComposeValue::Interpolated(v) => {
                    map.insert(e.key, v);
                }
                ComposeValue::FromHost => {
                    if let Some(v) = lookup(&e.key) {
                        map.insert(e.key, v);
                    }
                }
            }
        }
    }
    Ok(map)
}

fn strings(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn compose_v2_model_passes_compose_gos_own_tests() {
    let doc: Value = serde_json::from_str(FIXTURE).unwrap();
    let tests: Vec<&str> = doc["compose_go_tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        tests.len(),
        COMPOSE_GO_TESTS,
        "every compose-go test is accounted for"
    );
    let cases = doc["cases"].as_array().unwrap();
    let not_cases = doc["not_cases"].as_array().unwrap();
    for t in &tests {
        let covered = cases.iter().any(|c| c["test"] == *t);
        let excused = not_cases
            .iter()
            .any(|c| c["test"] == *t && !c["reason"].as_str().unwrap().is_empty());
        assert!(
            covered ^ excused,
            "{t}: a case or a reason, not both or neither"
        );
    }
    let mut failures = Vec::new();
    for c in cases {
        let label = format!(
            "{} {}",
            c["test"].as_str().unwrap(),
            c.get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| c.get("input").map(|i| format!("{i}")))
                .unwrap_or_default()
        );
        let files: Vec<String> = match c.get("files") {
            Some(fs) => fs
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect(),
            None => vec![c["input"].as_str().unwrap().to_string()],
        };
        let host = strings(c.get("host"));
        let got = read(&files, &host).map(|mut m| {
            // Read/ReadWithLookup drop names matching ^\s*\d.
            if c.get("drop_digit_keys") == Some(&Value::Bool(true)) {
                m.retain(|k, _| !k.trim_start().starts_with(|c: char| c.is_ascii_digit()));
            }
            m
        });
        match (c.get("error").and_then(Value::as_str), got) {
            (Some(want), Err(e)) if e.contains(want) => {}
            (Some(want), other) => failures.push(format!(
                "{label}: want an error with {want:?}, model {other:?}"
            )),
            (None, Err(e)) => failures.push(format!("{label}: model fails the file: {e}")),
            (None, Ok(got)) => {
                let want = strings(c.get("expect"));
                if c.get("exact") == Some(&Value::Bool(true)) {
                    if got != want {
                        failures.push(format!("{label}: want {want:?}, model {got:?}"));
                    }
                } else {
                    for (k, v) in &want {
                        if got.get(k) != Some(v) {
                            failures
                                .push(format!("{label}: {k}: want {v:?}, model {:?}", got.get(k)));
                        }
                    }
                }
                for k in c
                    .get("absent")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let k = k.as_str().unwrap();
                    if got.contains_key(k) {
                        failures.push(format!("{label}: {k} must not be set"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(cases.len() >= 100, "{}", cases.len());
}
