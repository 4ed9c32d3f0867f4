//! XML for S3's REST bodies: escaping what goes out, and a small element tree for what comes
//! in (CreateBucketConfiguration, Delete, CompleteMultipartUpload, Tagging). Inputs are small
//! documents, so a tree is simpler than streaming and costs nothing that matters.

use quick_xml::Reader;
use quick_xml::events::Event;

/// The namespace S3 answers carry.
pub const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// The XML declaration every S3 answer starts with.
pub const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, and control characters that XML 1.0
/// cannot carry written as character references (as S3 does for keys such as `a\rb`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 => out.push_str(&format!("&#x{:X};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Appends `<name>escaped value</name>` to `out`.
pub fn element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// One element of a parsed document: its local name (namespace prefix dropped), its text and
/// its child elements.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Element {
    /// Local name.
    pub name: String,
    /// Concatenated text content (entity references resolved).
    pub text: String,
    /// Child elements, in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Deepest nesting accepted: S3's request documents are at most four levels deep, and a
/// document nested deeper than this is refused before it can exhaust the stack (building and
/// dropping the tree recurse once per level).
const MAX_DEPTH: usize = 32;

/// Most elements accepted in one document: a CompleteMultipartUpload of 10,000 parts with every
/// checksum stays well below it.
const MAX_ELEMENTS: usize = 200_000;

/// Parses a whole document into its root element; `None` when it is not well-formed XML with
/// exactly one root, or nests deeper than [`MAX_DEPTH`] or holds more than [`MAX_ELEMENTS`].
pub fn parse(body: &[u8]) -> Option<Element> {
    let text = std::str::from_utf8(body).ok()?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    let mut elements = 0usize;
    loop {
        let event = reader.read_event().ok()?;
        if matches!(event, Event::Start(_) | Event::Empty(_)) {
            elements += 1;
            if elements > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                return None;
            }
        }
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return None;
                }
                stack.push(Element {
                    name: start.local_name().as_ref().to_owned(),
                    ..Element::default()
                });
            }
            Event::Empty(start) => {
                let element = Element {
                    name: start.local_name().as_ref().to_owned(),
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None if root.is_none() => root = Some(element),
                    None => return None,
                }
            }
            Event::End(end) => {
                let element = stack.pop()?;
                if end.local_name().as_ref() != element.name {
                    return None;
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return None,
                }
            }
            Event::CData(c) => stack.last_mut()?.text.push_str(&c.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().ok()? {
                    Some(c) => c,
                    None => match &*r {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return None,
                    },
                };
                stack.last_mut()?.text.push(resolved);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return None;
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_or_huge_documents_are_refused_not_overflowing_the_stack() {
        let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        assert!(parse(deep.as_bytes()).is_none());
        let nested = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(nested.as_bytes()).is_some());
        let wide = format!("<r>{}</r>", "<t/>".repeat(MAX_ELEMENTS));
        assert!(parse(wide.as_bytes()).is_none());
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(escape("a&b<c>\"'"), "a&amp;b&lt;c&gt;&quot;&apos;");
        assert_eq!(escape("a\rb"), "a&#xD;b");
    }

    #[test]
    fn parses_a_tree_with_namespaces_and_entities() {
        let doc = br#"<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b&#x41;</Key></Object><Quiet>true</Quiet><Object><Key><![CDATA[<c>]]></Key></Object></Delete>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Delete");
        let keys: Vec<_> = root
            .children_named("Object")
            .map(|o| o.child_text("Key").unwrap())
            .collect();
        assert_eq!(keys, ["a&bA", "<c>"]);
        assert_eq!(root.child_text("Quiet"), Some("true"));
    }

    #[test]
    fn refuses_malformed_documents() {
        for doc in [
            &b""[..],
            b"<a>",
            b"<a></b>",
            b"<a/><b/>",
            b"text",
            b"<a>&bogus;</a>",
            b"\xff\xfe",
        ] {
            assert_eq!(parse(doc), None, "{:?}", String::from_utf8_lossy(doc));
        }
    }
}
