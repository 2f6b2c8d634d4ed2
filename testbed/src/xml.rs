//! Just enough XML for EC2's query-protocol answers: reading a tag's values, and taking the
//! `<item>`s of a result set apart and back together (to page, omit or rewrite them).

/// Text between `<tag>` and `</tag>`, for each occurrence.
pub fn values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(after[..j].to_string());
        rest = &after[j + close.len()..];
    }
    out
}

/// The first value of `tag`, if any.
pub fn first(xml: &str, tag: &str) -> Option<String> {
    values(xml, tag).into_iter().next()
}

/// A result set (`<vpcSet>…</vpcSet>`) split into what comes before its items, the top-level
/// `<item>` elements themselves, and what comes after.
#[derive(Debug, PartialEq)]
pub struct ItemSet {
    pub before: String,
    pub items: Vec<String>,
    pub after: String,
}

impl ItemSet {
    /// None when the document has no `set_tag` element.
    pub fn parse(xml: &str, set_tag: &str) -> Option<ItemSet> {
        let empty = format!("<{set_tag}/>");
        if let Some(at) = xml.find(&empty) {
            return Some(ItemSet {
                before: format!("{}<{set_tag}>", &xml[..at]),
                items: Vec::new(),
                after: format!("</{set_tag}>{}", &xml[at + empty.len()..]),
            });
        }
        let (open, close) = (format!("<{set_tag}>"), format!("</{set_tag}>"));
        let start = xml.find(&open)? + open.len();
        let end = start + xml[start..].rfind(&close)?;
        let inner = &xml[start..end];
        let mut items = Vec::new();
        let mut depth = 0usize;
        let mut item_start = 0;
        let mut i = 0;
        while i < inner.len() {
            let rest = &inner[i..];
            if rest.starts_with("<item>") {
                if depth == 0 {
                    item_start = i;
                }
                depth += 1;
                i += "<item>".len();
            } else if rest.starts_with("</item>") {
                depth = depth.saturating_sub(1);
                i += "</item>".len();
                if depth == 0 {
                    items.push(inner[item_start..i].to_string());
                }
            } else {
                i += rest.chars().next().map_or(1, char::len_utf8);
            }
        }
        Some(ItemSet {
            before: xml[..start].to_string(),
            items,
            after: xml[end..].to_string(),
        })
    }

    pub fn render(&self) -> String {
        let mut out = self.before.clone();
        for item in &self.items {
            out.push_str(item);
        }
        out.push_str(&self.after);
        out
    }
}

/// Replaces the text of the first `<tag>` in `item`.
pub fn set_first(item: &str, tag: &str, value: &str) -> String {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let Some(i) = item.find(&open) else {
        return item.to_string();
    };
    let from = i + open.len();
    let Some(len) = item[from..].find(&close) else {
        return item.to_string();
    };
    format!("{}{value}{}", &item[..from], &item[from + len..])
}

/// Inserts `<tag>value</tag>` right after the element that ends with `after_close`
/// (e.g. `</vpcSet>`), or before the document's last closing tag.
pub fn insert_after(xml: &str, after_close: &str, tag: &str, value: &str) -> String {
    let element = format!("<{tag}>{value}</{tag}>");
    if let Some(at) = xml.rfind(after_close) {
        let at = at + after_close.len();
        return format!("{}{element}{}", &xml[..at], &xml[at..]);
    }
    match xml.rfind("</") {
        Some(at) => format!("{}{element}{}", &xml[..at], &xml[at..]),
        None => xml.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_finds_every_occurrence() {
        let xml = "<a><vpcId>vpc-1</vpcId><x/><vpcId>vpc-2</vpcId></a>";
        assert_eq!(values(xml, "vpcId"), vec!["vpc-1", "vpc-2"]);
        assert!(values(xml, "nope").is_empty());
    }

    #[test]
    fn item_sets_split_only_top_level_items() {
        let xml = "<R><requestId>1</requestId><subnetSet><item><subnetId>s-1</subnetId><tagSet><item><key>k</key></item></tagSet></item><item><subnetId>s-2</subnetId></item></subnetSet></R>";
        let set = ItemSet::parse(xml, "subnetSet").unwrap();
        assert_eq!(set.items.len(), 2);
        assert!(set.items[0].contains("<key>k</key>"));
        assert_eq!(set.render(), xml);
        let empty = ItemSet::parse("<R><subnetSet/></R>", "subnetSet").unwrap();
        assert!(empty.items.is_empty());
        assert_eq!(empty.render(), "<R><subnetSet></subnetSet></R>");
    }

    #[test]
    fn rewriting_and_inserting() {
        let item = "<item><state>available</state><x><state>a</state></x></item>";
        assert_eq!(
            set_first(item, "state", "pending"),
            "<item><state>pending</state><x><state>a</state></x></item>"
        );
        assert_eq!(
            insert_after("<R><vpcSet></vpcSet></R>", "</vpcSet>", "nextToken", "t"),
            "<R><vpcSet></vpcSet><nextToken>t</nextToken></R>"
        );
    }
}
