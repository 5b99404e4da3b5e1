//! A YAML document as a small tree whose nodes remember their line, for findings that
//! name `file:line`. yaml-rust2 parses (full YAML 1.2) and reports each event with its
//! position; this module builds the tree from those events, resolves anchors and aliases
//! and applies `<<` merge keys the way Docker Compose does.

use std::collections::HashMap;

use yaml_rust2::{
    parser::{Event, Parser},
    scanner::{Marker, TScalarStyle},
};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar as written; `plain` is false for quoted and block scalars.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line where the node starts (for an alias: where its anchor's node is).
    pub line: usize,
    pub value: Value,
}

/// A parse error with its 1-based line.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub line: usize,
    pub message: String,
}

impl Node {
    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The entry (key node, value node) of `key`: the key node's line is where the key is.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.entries()
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(e) => e,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(i) => i,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A plain `~`, `null` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true }
            if ["", "~", "null", "Null", "NULL"].contains(&text.as_str()))
    }

    /// A boolean true as Compose reads it (YAML 1.1 spellings included).
    pub fn is_true(&self) -> bool {
        self.as_str().is_some_and(|s| {
            [
                "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON",
            ]
            .contains(&s)
        })
    }

    /// Every scalar below this node (keys excluded), in document order.
    pub fn scalars(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        self.collect_scalars(&mut out);
        out
    }

    fn collect_scalars<'a>(&'a self, out: &mut Vec<&'a Node>) {
        match &self.value {
            Value::Scalar { .. } => out.push(self),
            Value::Seq(items) => items.iter().for_each(|n| n.collect_scalars(out)),
            Value::Map(entries) => entries.iter().for_each(|(_, v)| v.collect_scalars(out)),
        }
    }
}

enum Frame {
    Seq {
        line: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: usize,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

/// Parses the first document of `text`. `Ok(None)` for an empty file.
pub fn parse(text: &str) -> Result<Option<Node>, Error> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let err = |m: Marker, message: String| Error {
        line: m.line().max(1),
        message,
    };
    loop {
        let (event, mark) = parser
            .next_token()
            .map_err(|e| err(*e.marker(), e.info().to_string()))?;
        let line = mark.line().max(1);
        let done: Option<(Node, usize)> = match event {
            Event::StreamEnd | Event::DocumentEnd => return Ok(None),
            Event::Nothing | Event::StreamStart | Event::DocumentStart => None,
            Event::Scalar(text, style, anchor, _) => Some((
                Node {
                    line,
                    value: Value::Scalar {
                        text,
                        plain: style == TScalarStyle::Plain,
                    },
                },
                anchor,
            )),
            Event::Alias(id) => match anchors.get(&id) {
                Some(n) => Some((n.clone(), 0)),
                None => return Err(err(mark, "alias to an unknown anchor".into())),
            },
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq {
                    line,
                    anchor,
                    items: Vec::new(),
                });
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map {
                    line,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq {
                    line,
                    anchor,
                    items,
                }) => Some((
                    Node {
                        line,
                        value: Value::Seq(items),
                    },
                    anchor,
                )),
                Some(Frame::Map {
                    line,
                    anchor,
                    entries,
                    ..
                }) => Some((
                    Node {
                        line,
                        value: Value::Map(merge(entries).map_err(|(l, m)| Error {
                            line: l,
                            message: m,
                        })?),
                    },
                    anchor,
                )),
                None => return Err(err(mark, "unbalanced collection".into())),
            },
        };
        let Some((node, anchor)) = done else { continue };
        if anchor > 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => return Ok(Some(node)),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

/// Applies `<<` merge keys (explicit keys win, then earlier merged maps) and refuses
/// duplicate keys, which Compose rejects too.
fn merge(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, (usize, String)> {
    let mut own: Vec<(Node, Node)> = Vec::new();
    let mut merged: Vec<(Node, Node)> = Vec::new();
    for (k, v) in entries {
        let is_merge = matches!(&k.value, Value::Scalar { text, plain: true } if text == "<<");
        if is_merge {
            let sources: Vec<Node> = match v.value {
                Value::Map(_) => vec![v],
                Value::Seq(items) => items,
                _ => return Err((k.line, "<< must merge a mapping".into())),
            };
            for src in sources {
                let Value::Map(e) = src.value else {
                    return Err((k.line, "<< must merge mappings".into()));
                };
                for (mk, mv) in e {
                    if !merged.iter().any(|(x, _)| same_key(x, &mk)) {
                        merged.push((mk, mv));
                    }
                }
            }
            continue;
        }
        if let Some((first, _)) = own.iter().find(|(x, _)| same_key(x, &k)) {
            return Err((
                k.line,
                format!(
                    "duplicate key {:?} (first on line {})",
                    k.as_str().unwrap_or("?"),
                    first.line
                ),
            ));
        }
        own.push((k, v));
    }
    for (mk, mv) in merged {
        if !own.iter().any(|(x, _)| same_key(x, &mk)) {
            own.push((mk, mv));
        }
    }
    Ok(own)
}

fn same_key(a: &Node, b: &Node) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_anchors_and_merge_keys() {
        let text = "x-common: &common\n  restart: always\n  logging:\n    driver: json-file\nservices:\n  app:\n    <<: *common\n    restart: \"no\"\n    command: [\"a\", \"b\"]\n";
        let doc = parse(text).unwrap().unwrap();
        let app = doc.get("services").unwrap().get("app").unwrap();
        assert_eq!(
            app.get("restart").unwrap().as_str(),
            Some("no"),
            "own key wins"
        );
        let (k, v) = app.entry("logging").unwrap();
        assert_eq!(k.line, 3, "merged entries keep their own lines");
        assert_eq!(v.get("driver").unwrap().as_str(), Some("json-file"));
        assert_eq!(app.get("command").unwrap().items()[1].line, 9);
        assert_eq!(app.entry("command").unwrap().0.line, 9);
        let names: Vec<&str> = doc.scalars().iter().filter_map(|n| n.as_str()).collect();
        assert!(names.contains(&"json-file") && names.contains(&"b"));
    }

    #[test]
    fn errors_and_nulls() {
        let e = parse("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("duplicate"), "{e:?}");
        assert_eq!(parse("").unwrap(), None);
        let doc = parse("a:\nb: ~\nc: 'null'\nd: yes\n").unwrap().unwrap();
        assert!(doc.get("a").unwrap().is_null() && doc.get("b").unwrap().is_null());
        assert!(!doc.get("c").unwrap().is_null());
        assert!(doc.get("d").unwrap().is_true());
    }
}
