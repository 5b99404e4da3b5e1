//! ARCHITECTURE.md's layering, checked: the modules of `xtask/src` import each other without
//! a cycle (shared types sit below the tasks that use them), and every module is in the code
//! map.

mod support;

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

use support::*;

/// Top-level module -> the top-level modules it names through `crate::`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo().join("xtask/src");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in walk(&src) {
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let top = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        if top == "main" {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        // Unit tests may reach anywhere; only the code counts.
        let code = text.split("#[cfg(test)]").next().unwrap();
        let deps = out.entry(top.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            if let Some(block) = rest.strip_prefix('{') {
                // `use crate::{a::..., b::{...}, c}`: the names at depth 0.
                let mut depth = 0;
                let mut name = String::new();
                for ch in block.chars() {
                    match ch {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            deps.insert(first_segment(&name));
                            name.clear();
                        }
                        c if depth == 0 => name.push(c),
                        _ => {}
                    }
                }
                deps.insert(first_segment(&name));
            } else {
                deps.insert(first_segment(rest));
            }
        }
        deps.remove(&top);
    }
    let modules: BTreeSet<String> = out.keys().cloned().collect();
    for deps in out.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    out
}

fn first_segment(s: &str) -> String {
    s.trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// A cycle in the graph, if any, as the list of modules on it.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for d in &g[n] {
            match state.get(d.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|s| s == d).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(d.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(d, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, g, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn modules_import_each_other_without_a_cycle() {
    let g = imports();
    assert!(g.len() > 10, "found the modules: {g:?}");
    // The checker itself finds a planted cycle.
    let mut planted = g.clone();
    planted.get_mut("target").unwrap().insert("dist".into());
    assert!(find_cycle(&planted).is_some());
    if let Some(c) = find_cycle(&g) {
        panic!(
            "import cycle: {}. Move the shared piece below both (see ARCHITECTURE.md)",
            c.join(" -> ")
        );
    }
}

#[test]
fn every_module_is_in_the_code_map() {
    let map = fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap();
    let src = repo().join("xtask/src");
    for m in imports().keys() {
        let file = format!("xtask/src/{m}.rs");
        let dir = format!("xtask/src/{m}/");
        assert!(
            map.contains(&format!("`{file}`")) || map.contains(&format!("`{dir}`")),
            "{m} ({}) is missing from ARCHITECTURE.md's code map",
            if Path::new(&src).join(format!("{m}.rs")).exists() {
                file
            } else {
                dir
            }
        );
    }
}
