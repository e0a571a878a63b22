//! The README's "imports only point down" as a test: every `crate::…` and `super::…` path in
//! src/ is read, and a module that reaches a layer above its own, a folder that reaches back into
//! a folder that reaches it, or a file that does the same, fails the suite.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, top first. A module may use its own layer's other modules (without a circle) and
/// any layer below; everything not named here is a small leaf at the bottom.
const LAYERS: &[&[&str]] = &[
    &["main", "lib"],
    &["cli", "routes"],
    &["web"],
    &["app"],
    &["auth", "users", "hr", "mail", "audit", "sso"],
    &["db"],
];

/// Rocket's request-handling modules: only web/ and the front doors may use them.
const WEB_ONLY_ROCKET: &[&str] = &["request", "http", "form", "response", "data", "outcome"];

fn layer_of(top: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&top))
        .unwrap_or(LAYERS.len())
}

/// One source file: its module path (`["app", "sign_in", "code"]`) and its code without
/// comments and string literals.
struct Source {
    file: String,
    module: Vec<String>,
    code: String,
}

impl Source {
    fn top(&self) -> &str {
        self.module.first().map_or("lib", String::as_str)
    }
}

fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    if stem == "main" {
        parts.push("main".to_string());
    }
    parts
}

/// The code with comments, string and char literals blanked out, so that prose and SQL never
/// count as imports.
fn strip(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(rest.len(), |e| e + 2);
            i += end;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].chars().take_while(|c| *c == '#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let body = 2 + hashes;
            let end = rest[body..]
                .find(&close)
                .map_or(rest.len(), |e| body + e + close.len());
            out.push_str("\"\"");
            i += end;
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() {
                match rest.as_bytes()[j] {
                    b'\\' => j += 2,
                    b'"' => break,
                    _ => j += 1,
                }
            }
            out.push_str("\"\"");
            i += (j + 1).min(rest.len());
        } else if let Some(end) = char_literal_len(rest) {
            out.push_str("' '");
            i += end;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The length of a char literal (`'x'`, `'\\n'`, `'\\u{1F600}'`) at the start of `text`; `None`
/// for anything else, such as a lifetime.
fn char_literal_len(text: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    if chars.next()?.1 != '\'' {
        return None;
    }
    let (_, first) = chars.next()?;
    if first == '\\' {
        return text[2..].find('\'').map(|end| end + 3);
    }
    let (at, close) = chars.next()?;
    (close == '\'').then_some(at + 1)
}

fn read_sources(root: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(root).unwrap();
            Source {
                file: relative.display().to_string(),
                module: module_path(relative),
                code: strip(&std::fs::read_to_string(&path).unwrap()),
            }
        })
        .collect()
}

/// Every path a piece of code names after `crate::` or `super::`, expanded from `{…}` groups, as
/// absolute module paths.
fn paths_used(source: &Source) -> Vec<Vec<String>> {
    let code = &source.code;
    let mut found = Vec::new();
    for (prefix, base) in [
        ("crate::", Vec::new()),
        (
            "super::",
            source.module[..source.module.len().saturating_sub(1)].to_vec(),
        ),
    ] {
        let mut from = 0;
        while let Some(at) = code[from..].find(prefix) {
            let start = from + at;
            from = start + prefix.len();
            let before = code[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            // `$crate::` in macros and `super::super::` are read as written.
            let mut base = base.clone();
            let mut rest = &code[from..];
            while let Some(after) = rest.strip_prefix("super::") {
                base.pop();
                rest = after;
            }
            expand(rest, &base, &mut found);
        }
    }
    found
}

/// Reads one path (with nested `{…}` groups) at the start of `text`, appending each leaf.
fn expand(text: &str, base: &[String], found: &mut Vec<Vec<String>>) -> usize {
    let mut path = base.to_vec();
    let mut i = 0;
    let bytes = text.as_bytes();
    loop {
        let word_len = text[i..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(text.len() - i);
        if word_len > 0 {
            path.push(text[i..i + word_len].to_string());
            i += word_len;
        }
        if text[i..].starts_with("::") {
            i += 2;
            if bytes.get(i) == Some(&b'{') {
                i += 1;
                loop {
                    while bytes
                        .get(i)
                        .is_some_and(|b| b.is_ascii_whitespace() || *b == b',')
                    {
                        i += 1;
                    }
                    if bytes.get(i).is_none_or(|b| *b == b'}') {
                        return i + 1;
                    }
                    i += expand(&text[i..], &path, found);
                    // Skip `as name`.
                    while bytes.get(i).is_some_and(|b| *b != b',' && *b != b'}') {
                        i += 1;
                    }
                }
            }
            continue;
        }
        found.push(path);
        return i;
    }
}

/// The file a module path lands in: its longest prefix that is one of the sources.
fn resolve<'a>(path: &[String], modules: &'a BTreeMap<Vec<String>, String>) -> Option<&'a str> {
    (1..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n]).map(String::as_str))
}

/// Strongly connected groups of more than one node (the circles) in `edges`.
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges
        .iter()
        .flat_map(|(from, to)| std::iter::once(from).chain(to))
        .collect();
    let reach = |start: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.clone()];
        while let Some(node) = stack.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|node| (*node, reach(node))).collect();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    for node in &nodes {
        let group: Vec<String> = nodes
            .iter()
            .filter(|other| reached[node].contains(**other) && reached[**other].contains(*node))
            .map(|other| (*other).clone())
            .collect();
        if group.len() > 1 {
            groups.insert(group);
        }
    }
    groups.into_iter().collect()
}

/// Everything wrong with the imports of these sources, one line each.
fn violations(sources: &[Source]) -> Vec<String> {
    let modules: BTreeMap<Vec<String>, String> = sources
        .iter()
        .map(|s| (s.module.clone(), s.file.clone()))
        .collect();
    let mut wrong = Vec::new();
    let mut folder_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut file_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for source in sources {
        let own = layer_of(source.top());
        for path in paths_used(source) {
            let Some(top) = path.first() else { continue };
            if path.len() == 1 && top == "self" {
                continue;
            }
            if layer_of(top) < own {
                wrong.push(format!(
                    "{} (layer {own}) imports crate::{} from the layer above (layer {})",
                    source.file,
                    path.join("::"),
                    layer_of(top)
                ));
            }
            if top != source.top() {
                folder_edges
                    .entry(source.top().to_string())
                    .or_default()
                    .insert(top.clone());
            }
            if let Some(file) = resolve(&path, &modules).filter(|file| *file != source.file) {
                file_edges
                    .entry(source.file.clone())
                    .or_default()
                    .insert(file.to_string());
            }
        }
        if own > layer_of("web") {
            for module in WEB_ONLY_ROCKET {
                if source.code.contains(&format!("rocket::{module}::")) {
                    wrong.push(format!(
                        "{} is below web/ but uses rocket::{module}",
                        source.file
                    ));
                }
            }
        }
    }
    for group in circles(&folder_edges) {
        wrong.push(format!(
            "modules import each other in a circle: {}",
            group.join(", ")
        ));
    }
    // A folder's mod.rs declaring and re-exporting its children is not a circle.
    for (from, to) in file_edges.iter_mut() {
        let folder = from.trim_end_matches("mod.rs");
        if from.ends_with("mod.rs") {
            to.retain(|file| !file.starts_with(folder));
        }
    }
    for group in circles(&file_edges) {
        wrong.push(format!(
            "files import each other in a circle: {}",
            group.join(", ")
        ));
    }
    wrong
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_import_in_src_points_down_the_layers_and_nothing_imports_in_a_circle() {
    let wrong = violations(&read_sources(&src()));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_planted_upward_import_is_caught() {
    let mut sources = read_sources(&src());
    sources.push(Source {
        file: "users/planted.rs".into(),
        module: vec!["users".into(), "planted".into()],
        code: strip("use crate::web::{page::Layout, cookies};\n"),
    });
    let wrong = violations(&sources);
    assert!(
        wrong
            .iter()
            .any(|w| w.starts_with("users/planted.rs") && w.contains("crate::web::page::Layout")),
        "{wrong:?}"
    );
}

#[test]
fn a_planted_circle_between_domain_folders_is_caught() {
    let mut sources = read_sources(&src());
    sources.push(Source {
        file: "users/planted.rs".into(),
        module: vec!["users".into(), "planted".into()],
        code: strip("fn f() { crate::hr::date_of(0); }\n"),
    });
    sources.push(Source {
        file: "hr/planted.rs".into(),
        module: vec!["hr".into(), "planted".into()],
        code: strip("use crate::users::User; // crate::web in a comment does not count\n"),
    });
    let wrong = violations(&sources);
    assert!(
        wrong
            .iter()
            .any(|w| w.contains("circle") && w.contains("hr") && w.contains("users")),
        "{wrong:?}"
    );
}

#[test]
fn rocket_request_types_below_web_are_caught() {
    let mut sources = read_sources(&src());
    sources.push(Source {
        file: "app/planted.rs".into(),
        module: vec!["app".into(), "planted".into()],
        code: strip("use rocket::http::Status;\n"),
    });
    let wrong = violations(&sources);
    assert!(
        wrong.iter().any(|w| w.starts_with("app/planted.rs")),
        "{wrong:?}"
    );
}
