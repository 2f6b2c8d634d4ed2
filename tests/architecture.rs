//! The layout shows the architecture, and every import points down:
//! `aws` (SDK wrappers) < `cluster` (the domain) < `provider` (what every kind shares) <
//! the Terraform kinds (`resource`, `data_source`, `ephemeral`, `action`, `function`) <
//! `server` (the registry). This test reads `src/`, resolves every `crate::…`, `super::…` and
//! child-module path of every file (test modules left out) to the module it names, and checks:
//! - nothing in `cluster/` or `aws/` refers to `tfplugin6`, `crate::resource`,
//!   `crate::provider` or a kind;
//! - no kind refers to `crate::resource` but the resource itself, nor to another kind;
//! - no import circle spans two folders;
//! - `resource/hybrid_cluster/mod.rs` is under 300 lines, and no file over 800 but the AWS
//!   wrappers.
//!
//! It prints the module-level circles and the longest files, as the closing note of issue 29
//! compares them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module of the crate, as `a::b` (the crate root is "").
type Module = String;

struct Source {
    module: Module,
    /// The folder it lives in, relative to `src/` ("" for the root).
    folder: String,
    /// Whether its children are modules named by its own paths (lib.rs, main.rs, mod.rs).
    owns_children: bool,
    text: String,
    lines: usize,
}

fn sources() -> Vec<Source> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .to_string();
            let parts: Vec<&str> = rel.trim_end_matches(".rs").split('/').collect();
            let (module, owns_children) = match parts.last() {
                Some(&"mod") => (parts[..parts.len() - 1].join("::"), true),
                Some(&"lib") | Some(&"main") if parts.len() == 1 => (String::new(), true),
                _ => (parts.join("::"), false),
            };
            let folder = Path::new(&rel)
                .parent()
                .map(|p| p.to_string_lossy().to_string())
                .unwrap_or_default();
            let full = std::fs::read_to_string(&path).unwrap();
            let text = without_tests(&without_comments(&full));
            Source {
                module,
                folder,
                owns_children,
                lines: full.lines().count(),
                text,
            }
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn without_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The file up to its `#[cfg(test)]` module, which by this crate's convention comes last.
fn without_tests(text: &str) -> String {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => text[..i].to_string(),
        None => text.to_string(),
    }
}

/// Every path a file names that starts at `crate`, `super`, `self` or a name (a child module
/// or an external crate), with `use` trees expanded.
fn paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    // `use` declarations, whose braces group several paths.
    let mut rest = text;
    while let Some(i) = find_use(rest) {
        let after = &rest[i..];
        let end = after.find(';').unwrap_or(after.len());
        let tree: String = after[..end]
            .trim_start_matches("pub ")
            .trim_start_matches("use ")
            .split_whitespace()
            .collect();
        expand(&tree, "", &mut out);
        rest = &after[end..];
    }
    // Paths in expressions and types.
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let start_ok = i == 0
            || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == ':');
        if start_ok && (chars[i].is_ascii_lowercase() || chars[i] == '_') {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == ':')
            {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            // A word ending in `::` heads a `use` group, whose paths are expanded above.
            if word.contains("::") && !word.ends_with("::") {
                out.push(word);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

fn find_use(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find("use ") {
        let at = from + i;
        let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        let before = text[line_start..at].trim();
        if before.is_empty() || before == "pub" || before == "pub(crate)" {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim().trim_end_matches(',');
    if tree.is_empty() {
        return;
    }
    match tree.find('{') {
        None => {
            let path = tree.split(" as ").next().unwrap_or(tree);
            out.push(format!("{prefix}{path}"));
        }
        Some(open) => {
            let head = &tree[..open];
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&inner[start..i], &format!("{prefix}{head}"), out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            expand(&inner[start..], &format!("{prefix}{head}"), out);
        }
    }
}

/// The module a path names, or None for an external one.
fn resolve(from: &Source, path: &str, modules: &BTreeSet<Module>) -> Option<Module> {
    let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let base: Vec<String> = if from.module.is_empty() {
        Vec::new()
    } else {
        from.module.split("::").map(str::to_string).collect()
    };
    let (mut at, rest): (Vec<String>, &[&str]) = match segs.first() {
        Some(&"crate") => (Vec::new(), &segs[1..]),
        Some(&"self") => (base.clone(), &segs[1..]),
        Some(&"super") => {
            let mut at = base.clone();
            let mut n = 0;
            while segs.get(n) == Some(&"super") {
                at.pop();
                n += 1;
            }
            (at, &segs[n..])
        }
        Some(first) if from.owns_children => {
            let child = join(&base, first);
            if modules.contains(&child) {
                (base.clone(), &segs[..])
            } else {
                return None;
            }
        }
        // An external crate, or a name brought in by a `use` already counted.
        Some(_) => return None,
        None => return None,
    };
    // The deepest module the path passes through (an item of the start module names it).
    let start = at.join("::");
    let mut found = (!start.is_empty() && modules.contains(&start)).then_some(start);
    for s in rest {
        at.push(s.to_string());
        let m = at.join("::");
        if modules.contains(&m) {
            found = Some(m);
        } else {
            break;
        }
    }
    found
}

fn join(base: &[String], s: &str) -> String {
    let mut v = base.to_vec();
    v.push(s.to_string());
    v.join("::")
}

fn graph(sources: &[Source]) -> BTreeMap<Module, BTreeSet<Module>> {
    let modules: BTreeSet<Module> = sources.iter().map(|s| s.module.clone()).collect();
    sources
        .iter()
        .map(|s| {
            let deps = paths(&s.text)
                .iter()
                .filter_map(|p| resolve(s, p, &modules))
                .filter(|m| *m != s.module && !m.is_empty())
                .collect();
            (s.module.clone(), deps)
        })
        .collect()
}

/// Strongly connected sets of more than one module (Tarjan).
fn circles(g: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct T<'a> {
        g: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<Module>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.g.contains_key(w) {
                continue;
            }
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

const KINDS: [&str; 5] = ["resource", "data_source", "ephemeral", "action", "function"];

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or_default()
}

#[test]
fn every_import_points_down() {
    let sources = sources();
    let g = graph(&sources);
    let folder_of: BTreeMap<&str, &str> = sources
        .iter()
        .map(|s| (s.module.as_str(), s.folder.as_str()))
        .collect();
    let mut problems = Vec::new();
    for s in &sources {
        let layer = top(&s.module);
        let deps = &g[&s.module];
        if layer == "cluster" || layer == "aws" {
            if s.text.contains("tfplugin6") {
                problems.push(format!("{} refers to tfplugin6", s.module));
            }
            for d in deps {
                let t = top(d);
                if t == "provider" || KINDS.contains(&t) || t == "server" {
                    problems.push(format!("{} imports {d}", s.module));
                }
                if layer == "aws" && t == "cluster" {
                    problems.push(format!("{} (aws) imports the domain: {d}", s.module));
                }
            }
        }
        if KINDS.contains(&layer) {
            for d in deps {
                let t = top(d);
                if KINDS.contains(&t) && t != layer {
                    problems.push(format!("{} imports another kind: {d}", s.module));
                }
            }
        }
        if layer == "provider" {
            for d in deps {
                if KINDS.contains(&top(d)) || top(d) == "server" {
                    problems.push(format!("{} (provider) imports {d}", s.module));
                }
            }
        }
    }
    let all_circles = circles(&g);
    eprintln!("import circles (modules): {}", all_circles.len());
    for c in &all_circles {
        let folders: BTreeSet<&str> = c.iter().map(|m| folder_of[m.as_str()]).collect();
        eprintln!("  {} modules over folders {folders:?}: {c:?}", c.len());
        if folders.len() > 1 {
            problems.push(format!("an import circle spans {folders:?}: {c:?}"));
        }
    }
    let mut longest: Vec<(usize, String)> = sources
        .iter()
        .map(|s| (s.lines, format!("src/{}", module_file(s))))
        .collect();
    longest.sort_by(|a, b| b.cmp(a));
    eprintln!("longest files: {:?}", &longest[..8]);
    for (lines, file) in &longest {
        let wrapper = file.starts_with("src/aws/");
        if *lines > 800 && !wrapper {
            problems.push(format!("{file} has {lines} lines (over 800)"));
        }
        if file == "src/resource/hybrid_cluster/mod.rs" && *lines >= 300 {
            problems.push(format!("{file} has {lines} lines (300 or more)"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn module_file(s: &Source) -> String {
    let base = if s.module.is_empty() {
        "lib".to_string()
    } else {
        s.module.replace("::", "/")
    };
    if s.owns_children && !s.module.is_empty() {
        format!("{base}/mod.rs")
    } else {
        format!("{base}.rs")
    }
}
