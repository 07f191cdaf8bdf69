//! Vendor and product names, normalised so that what a device says about
//! itself (`Rockwell Automation/Allen-Bradley`, `CPU 315-2 PN/DP`,
//! `6ES7 315-2EH14-0AB0`) meets what advisories call it
//! (`rockwell_automation`, `simatic_s7-300_cpu_315-2_pn\/dp_firmware`,
//! `SIMATIC S7-300 CPU 315-2 PN/DP (6ES7315-2EH14-0AB0)`).

use std::collections::BTreeSet;

/// Words at the end of company names that say nothing about the company.
const COMPANY_SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "gmbh",
    "ag",
    "sa",
    "se",
    "llc",
    "plc",
    "kg",
    "bv",
    "nv",
    "oy",
    "ab",
    "spa",
    "srl",
    "pty",
    "kk",
    "the",
];

/// Vendor names that stand for another (brands, former names), as normalised keys.
const VENDOR_ALIASES: &[(&str, &str)] = &[
    ("allenbradley", "rockwellautomation"),
    ("rockwell", "rockwellautomation"),
    ("lithonialighting", "acuitybrands"),
    ("lithonia", "acuitybrands"),
    ("acuitybrandslighting", "acuitybrands"),
    ("arevatd", "areva"),
    ("schneider", "schneiderelectric"),
    ("modicon", "schneiderelectric"),
    ("ciscosystems", "cisco"),
    ("generalelectric", "ge"),
    ("hewlettpackard", "hp"),
    ("hewlettpackardenterprise", "hpe"),
    ("automatedlogiccorporation", "automatedlogic"),
    ("mitsubishi", "mitsubishielectric"),
    ("phoenix", "phoenixcontact"),
    ("honeywellinternational", "honeywell"),
    ("emersonelectric", "emerson"),
];

/// The normalised keys a vendor name stands for: each `/`-separated part
/// without company suffixes, letters and digits only, plus its aliases.
/// `Rockwell Automation/Allen-Bradley (0x0001)` gives `rockwellautomation`
/// and `allenbradley`; the CPE vendor `rockwell_automation` gives `rockwellautomation`.
pub fn vendor_keys(name: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let without_notes = strip_parentheses(name).replace("\\", "");
    for part in without_notes.split(['/', '|']) {
        let words: Vec<String> = part
            .to_lowercase()
            .replace('&', " and ")
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        let mut end = words.len();
        while end > 1 && words.get(end - 1).is_some_and(|w| COMPANY_SUFFIXES.contains(&w.as_str())) {
            end -= 1;
        }
        let key: String = words.get(..end).unwrap_or(&[]).iter().filter(|w| w.as_str() != "and").map(String::as_str).collect();
        if key.len() < 2 {
            continue;
        }
        if let Some((_, to)) = VENDOR_ALIASES.iter().find(|(from, _)| *from == key) {
            out.insert((*to).to_string());
        }
        out.insert(key);
    }
    out
}

/// True for a key that other vendor names stand for (`rockwellautomation`).
pub fn is_alias_target(key: &str) -> bool {
    VENDOR_ALIASES.iter().any(|(_, to)| *to == key)
}

/// Drops `(…)` notes such as `(0x0001)` or `(from S7)`.
fn strip_parentheses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Words that appear in product names without telling products apart.
const GENERIC_WORDS: &[&str] = &[
    "firmware",
    "software",
    "hardware",
    "fw",
    "sw",
    "device",
    "devices",
    "series",
    "family",
    "module",
    "modules",
    "and",
    "for",
    "with",
    "the",
    "of",
    "system",
    "systems",
    "version",
    "versions",
    "all",
    "incl",
    "including",
    "product",
    "products",
    "os",
];

/// Product-line words that exclude each other: a SIPLUS advisory is not about a SIMATIC device.
const EXCLUSIVE_LINES: &[&[&str]] = &[&["simatic", "siplus"], &["controllogix", "compactlogix", "micrologix", "guardlogix"]];

/// A word of a product name; `optional` for series letters written after a
/// slash at the end of a designation (`1756-ENBT/A`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// Lower-case letters or digits.
    pub text: String,
    /// May be absent on the other side.
    pub optional: bool,
}

/// Splits a name into lower-case words, also where letters meet digits
/// (`LOGIX5561` is `logix`, `5561`); CPE escapes (`\/`) are undone first.
pub fn tokens(text: &str) -> Vec<Token> {
    let text = text.replace('\\', "");
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Token> = Vec::new();
    let mut current = String::new();
    let mut start = 0usize;
    let push = |current: &mut String, start: usize, end: usize, out: &mut Vec<Token>| {
        if current.is_empty() {
            return;
        }
        let after_slash = start > 0 && chars.get(start - 1) == Some(&'/');
        let at_end = chars.get(end).is_none_or(|c| c.is_whitespace() || matches!(c, ',' | ')' | ';'));
        let optional = after_slash && at_end && current.len() == 1 && current.chars().all(|c| c.is_ascii_alphabetic());
        out.push(Token { text: current.to_lowercase(), optional });
        current.clear();
    };
    for (i, c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            if let Some(last) = current.chars().last() {
                if last.is_ascii_digit() != c.is_ascii_digit() {
                    push(&mut current, start, i, &mut out);
                    start = i;
                }
            } else {
                start = i;
            }
            current.push(*c);
        } else {
            push(&mut current, start, i, &mut out);
        }
    }
    let end = chars.len();
    push(&mut current, start, end, &mut out);
    out
}

/// Letters and digits only, upper-case: `6ES7 315-2EH14-0AB0` is `6ES73152EH140AB0`.
pub fn compact(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()
}

/// Matches a CSAF model number, which may hold `*` (any run) and `?` (one
/// character) wildcards, against an order number; both are compacted first.
pub fn model_number_matches(pattern: &str, order_number: &str) -> bool {
    let pattern: Vec<char> =
        pattern.chars().filter(|c| c.is_alphanumeric() || matches!(c, '*' | '?')).flat_map(char::to_uppercase).collect();
    let text: Vec<char> = compact(order_number).chars().collect();
    if text.is_empty() || pattern.iter().all(|c| *c == '*') {
        return false;
    }
    wildcard(&pattern, &text)
}

fn wildcard(pattern: &[char], text: &[char]) -> bool {
    // Iterative matcher with one backtrack point per star.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '?' || Some(c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

/// Product-line words that a vendor's order numbers or model names imply
/// (a Siemens `6ES7 315-…` is a SIMATIC S7-300; a Rockwell `1756-…` is ControlLogix).
pub fn implied_line(vendor_keys: &BTreeSet<String>, designation: &str) -> Vec<&'static str> {
    let c = compact(designation);
    let lower = designation.to_lowercase();
    let mut out = Vec::new();
    if vendor_keys.contains("siemens") {
        let s7 = |digits: &str| c.starts_with(&format!("6ES7{digits}")) || c.starts_with(&format!("6AG1{digits}"));
        if c.starts_with("6AG1") {
            out.push("siplus");
        } else if c.starts_with("6ES7") || c.starts_with("6GK") || lower.contains("simatic") {
            out.push("simatic");
        }
        let cpu = lower.strip_prefix("cpu ").or_else(|| lower.split("cpu ").nth(1)).unwrap_or("");
        if s7("21") || cpu.starts_with("12") {
            out.extend(["s", "7", "1200"]);
        } else if s7("51") || cpu.starts_with("15") {
            out.extend(["s", "7", "1500"]);
        } else if s7("3") || cpu.starts_with('3') {
            out.extend(["s", "7", "300"]);
        } else if s7("4") || cpu.starts_with('4') {
            out.extend(["s", "7", "400"]);
        }
        if !out.is_empty() && !out.contains(&"siplus") && !out.contains(&"simatic") {
            out.push("simatic");
        }
    }
    if vendor_keys.contains("rockwellautomation") {
        for (prefix, line) in [("1756", "controllogix"), ("1769", "compactlogix"), ("1766", "micrologix"), ("1763", "micrologix")] {
            if c.starts_with(prefix) {
                out.push(line);
            }
        }
    }
    out
}

/// How a product name was matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProductLevel {
    /// A product line the device belongs to (`simatic_s7-300_cpu_firmware`).
    Line,
    /// The device's model, with words the device does not state (`synergy_sysc_mlx`).
    ModelLoose,
    /// The device's model.
    Model,
    /// The device's order number.
    OrderNumber,
}

impl ProductLevel {
    /// The confidence that a name matched at this level names the device.
    pub fn confidence(self) -> f64 {
        match self {
            ProductLevel::Line => 0.5,
            ProductLevel::ModelLoose => 0.75,
            ProductLevel::Model => 0.9,
            ProductLevel::OrderNumber => 0.95,
        }
    }

    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ProductLevel::Line => "product line",
            ProductLevel::ModelLoose => "model (loose)",
            ProductLevel::Model => "model",
            ProductLevel::OrderNumber => "order number",
        }
    }
}

/// What a device says it is, prepared for matching product names.
#[derive(Clone, Debug, Default)]
pub struct ProductIdentity {
    /// Vendor keys.
    pub vendor_keys: BTreeSet<String>,
    /// Designations (model, product name, order number), each as its words.
    pub designations: Vec<(String, Vec<Token>)>,
    /// Order numbers, compacted.
    pub order_numbers: Vec<String>,
    /// Every word the device states or implies (designations, product lines).
    pub words: BTreeSet<String>,
    /// Product-line words implied by designations.
    pub lines: BTreeSet<String>,
}

impl ProductIdentity {
    /// Builds the identity from vendor names, model-like designations and order numbers.
    pub fn new<'a>(
        vendors: impl IntoIterator<Item = &'a str>,
        designations: impl IntoIterator<Item = &'a str>,
        order_numbers: impl IntoIterator<Item = &'a str>,
    ) -> ProductIdentity {
        let mut id = ProductIdentity::default();
        for v in vendors {
            id.vendor_keys.extend(vendor_keys(v));
        }
        let vendor_words = vendor_words(&id.vendor_keys);
        let order_numbers: Vec<&str> = order_numbers.into_iter().collect();
        for d in designations.into_iter().chain(order_numbers.iter().copied()) {
            let toks: Vec<Token> = tokens(d).into_iter().filter(|t| !vendor_words.contains(&t.text)).collect();
            if toks.iter().all(|t| GENERIC_WORDS.contains(&t.text.as_str())) {
                continue;
            }
            id.words.extend(toks.iter().map(|t| t.text.clone()));
            for line in implied_line(&id.vendor_keys, d) {
                id.lines.insert(line.to_string());
            }
            if !id.designations.iter().any(|(text, _)| text == d) {
                id.designations.push((d.to_string(), toks));
            }
        }
        id.words.extend(id.lines.iter().cloned());
        id.order_numbers = order_numbers.iter().map(|o| compact(o)).filter(|o| o.len() >= 8).collect();
        id
    }

    /// True when the device's vendor is one of `keys`.
    pub fn vendor_matches(&self, keys: &BTreeSet<String>) -> bool {
        self.vendor_keys.iter().any(|k| keys.contains(k))
    }

    /// How well a product name (a CPE product or a CSAF product name, with
    /// its vendor's keys) names this device, if at all.
    pub fn match_name(&self, name: &str, record_vendor: &BTreeSet<String>) -> Option<ProductLevel> {
        let vendor_words = vendor_words(&self.vendor_keys.union(record_vendor).cloned().collect());
        let words: Vec<Token> =
            tokens(name).into_iter().filter(|t| !GENERIC_WORDS.contains(&t.text.as_str()) && !vendor_words.contains(&t.text)).collect();
        if words.is_empty() {
            return None;
        }
        let compact_name = compact(name);
        if self.order_numbers.iter().any(|o| compact_name.contains(o.as_str())) {
            return Some(ProductLevel::OrderNumber);
        }
        // A product line that excludes the device's own.
        for group in EXCLUSIVE_LINES {
            let named: Vec<&&str> = group.iter().filter(|w| words.iter().any(|t| t.text == **w)).collect();
            let own: Vec<&&str> = group.iter().filter(|w| self.lines.contains(**w)).collect();
            if !named.is_empty() && !own.is_empty() && !named.iter().any(|w| own.contains(w)) {
                return None;
            }
        }
        // Numbers in the name that the device never states name another model.
        if words.iter().any(|t| t.text.bytes().any(|b| b.is_ascii_digit()) && !self.words.contains(&t.text)) {
            return None;
        }
        let mut best: Option<ProductLevel> = None;
        let mut mentions_model = false;
        for (_, designation) in &self.designations {
            let required: Vec<&Token> = designation.iter().filter(|t| !t.optional && !GENERIC_WORDS.contains(&t.text.as_str())).collect();
            let model_words: Vec<&str> =
                required.iter().map(|t| t.text.as_str()).filter(|w| !self.lines.contains(*w) && has_digit(w)).collect();
            if words.iter().any(|t| model_words.contains(&t.text.as_str())) {
                mentions_model = true;
            }
            if let Some(level) = self.model_level(&required, &words) {
                best = best.max(Some(level));
            }
        }
        if best.is_some() {
            return best;
        }
        // A product line: every word of the name is one the device states or
        // implies, and the name does not mention the device's model number.
        let all_known = words.iter().all(|t| self.words.contains(&t.text));
        let names_line = words.iter().any(|t| self.lines.contains(&t.text));
        (all_known && names_line && !mentions_model).then_some(ProductLevel::Line)
    }

    /// How well a CSAF product name under a product family names this
    /// device: the name is matched as a product name; the family must not
    /// be a product line that excludes the device's, and words of it the
    /// device does not state make the match loose.
    pub fn match_in_family(&self, family: Option<&str>, name: &str, record_vendor: &BTreeSet<String>) -> Option<ProductLevel> {
        let level = self.match_name(name, record_vendor)?;
        let Some(family) = family else { return Some(level) };
        let vendor_words = vendor_words(&self.vendor_keys.union(record_vendor).cloned().collect());
        let words: Vec<String> = tokens(family)
            .into_iter()
            .map(|t| t.text)
            .filter(|w| !GENERIC_WORDS.contains(&w.as_str()) && !vendor_words.contains(w))
            .collect();
        for group in EXCLUSIVE_LINES {
            let named = group.iter().any(|g| words.iter().any(|w| w == g));
            let own: Vec<&&str> = group.iter().filter(|g| self.lines.contains(**g)).collect();
            if named && !own.is_empty() && !own.iter().any(|g| words.iter().any(|w| w == **g)) {
                return None;
            }
        }
        let all_known = words.iter().all(|w| self.words.contains(w));
        Some(if level == ProductLevel::Model && !all_known { ProductLevel::ModelLoose } else { level })
    }

    /// The model-level match of one designation against a name's words:
    /// a common run of words with no disagreement at either end that is the
    /// whole designation or holds one of its model numbers.
    fn model_level(&self, designation: &[&Token], words: &[Token]) -> Option<ProductLevel> {
        let mut best = None;
        for i in 0..designation.len() {
            for j in 0..words.len() {
                let mut len = 0;
                while designation.get(i + len).zip(words.get(j + len)).is_some_and(|(a, b)| a.text == b.text) {
                    len += 1;
                }
                if len == 0 || (i > 0 && j > 0 && designation.get(i - 1).map(|t| &t.text) == words.get(j - 1).map(|t| &t.text)) {
                    continue; // not a maximal run
                }
                // The words on either side disagree, unless the name's word is
                // a product line the device belongs to (`controllogix_5561`).
                let clash = |name_word: Option<&Token>, own: Option<&&Token>| {
                    own.is_some() && name_word.is_some_and(|w| !self.lines.contains(&w.text))
                };
                let before_clash = i > 0 && j > 0 && clash(words.get(j - 1), designation.get(i - 1));
                let after_clash = clash(words.get(j + len), designation.get(i + len));
                if before_clash || after_clash {
                    continue;
                }
                let run = designation.get(i..i + len).unwrap_or(&[]);
                let whole = len == designation.len();
                let model_number = run.iter().any(|t| has_digit(&t.text) && !self.lines.contains(&t.text));
                if !(whole || model_number) {
                    continue;
                }
                let others_known = words.iter().enumerate().all(|(k, t)| (j..j + len).contains(&k) || self.words.contains(&t.text));
                let level = if others_known { ProductLevel::Model } else { ProductLevel::ModelLoose };
                best = best.max(Some(level));
            }
        }
        best
    }
}

fn has_digit(word: &str) -> bool {
    word.bytes().any(|b| b.is_ascii_digit())
}

/// The single words vendor names are made of (`rockwell`, `automation`,
/// `siemens`), dropped from product names before comparing.
fn vendor_words(keys: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = keys.iter().cloned().collect();
    for (from, to) in VENDOR_ALIASES {
        if keys.contains(*to) {
            out.insert((*from).to_string());
        }
    }
    // Common splits of joined keys.
    for key in keys {
        for (joined, parts) in [
            ("rockwellautomation", &["rockwell", "automation"][..]),
            ("allenbradley", &["allen", "bradley"]),
            ("schneiderelectric", &["schneider", "electric"]),
            ("acuitybrands", &["acuity", "brands"]),
            ("lithonialighting", &["lithonia", "lighting"]),
            ("phoenixcontact", &["phoenix", "contact"]),
            ("mitsubishielectric", &["mitsubishi", "electric"]),
        ] {
            if key == joined {
                out.extend(parts.iter().map(|p| p.to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &str) -> Vec<String> {
        vendor_keys(v).into_iter().collect()
    }

    #[test]
    fn vendors_normalise() {
        assert_eq!(keys("Rockwell Automation/Allen-Bradley (0x0001)"), vec!["allenbradley", "rockwellautomation"]);
        assert_eq!(keys("rockwell_automation"), vec!["rockwellautomation"]);
        assert_eq!(keys("rockwellautomation"), vec!["rockwellautomation"]);
        assert_eq!(keys("Siemens AG"), vec!["siemens"]);
        assert_eq!(keys("Lithonia Lighting, Inc."), vec!["acuitybrands", "lithonialighting"]);
        assert_eq!(keys("AREVA T&D Corporation"), vec!["areva", "arevatd"]);
        assert_eq!(keys("schneider-electric"), vec!["schneiderelectric"]);
        assert_eq!(keys("Cisco Systems, Inc"), vec!["cisco", "ciscosystems"]);
    }

    #[test]
    fn tokens_split_words_and_mark_series_letters() {
        let t: Vec<(String, bool)> = tokens("1756-L61/B LOGIX5561").into_iter().map(|t| (t.text, t.optional)).collect();
        let expect = [("1756", false), ("l", false), ("61", false), ("b", true), ("logix", false), ("5561", false)];
        assert_eq!(t, expect.iter().map(|(a, b)| (a.to_string(), *b)).collect::<Vec<_>>());
        let t: Vec<String> = tokens("simatic_s7-300_cpu_315-2_pn\\/dp_firmware").into_iter().map(|t| t.text).collect();
        assert_eq!(t, ["simatic", "s", "7", "300", "cpu", "315", "2", "pn", "dp", "firmware"]);
        assert!(!tokens("PN/DP").iter().any(|t| t.optional));
    }

    #[test]
    fn model_numbers_with_wildcards() {
        assert!(model_number_matches("6ES7315-2EH14-0AB0", "6ES7 315-2EH14-0AB0"));
        assert!(model_number_matches("6ES7315-2EH14-*", "6ES7 315-2EH14-0AB0"));
        assert!(model_number_matches("6ES7315-2EH1?-0AB0", "6ES7 315-2EH14-0AB0"));
        assert!(!model_number_matches("6ES7315-2AH14-0AB0", "6ES7 315-2EH14-0AB0"));
        assert!(!model_number_matches("*", "6ES7 315-2EH14-0AB0"));
    }

    fn s7() -> ProductIdentity {
        ProductIdentity::new(["Siemens"], ["CPU 315-2 PN/DP"], ["6ES7 315-2EH14-0AB0"])
    }

    fn siemens() -> BTreeSet<String> {
        vendor_keys("siemens")
    }

    #[test]
    fn siemens_names() {
        let id = s7();
        let m = |name: &str| id.match_name(name, &siemens());
        assert_eq!(m("simatic_s7-300_cpu_315-2_pn\\/dp_firmware"), Some(ProductLevel::Model));
        assert_eq!(m("6es7315-2eh14-0ab0_firmware"), Some(ProductLevel::OrderNumber));
        assert_eq!(m("simatic_s7-300_cpu_firmware"), Some(ProductLevel::Line));
        assert_eq!(m("simatic_s7-300_firmware"), Some(ProductLevel::Line));
        assert_eq!(m("SIMATIC S7-300 CPU 315-2 PN/DP"), Some(ProductLevel::Model));
        assert_eq!(m("simatic_s7-300_cpu_315-2_dp_firmware"), None);
        assert_eq!(m("simatic_s7-300_cpu_315f-2_pn\\/dp_firmware"), None);
        assert_eq!(m("siplus_s7-300_cpu_315-2_pn\\/dp_firmware"), None);
        assert_eq!(m("simatic_s7-400_cpu_firmware"), None);
        assert_eq!(m("simatic_s7-1200_cpu_1211c_firmware"), None);
        assert_eq!(m("simatic_s7-300_cpu_317-2_pn\\/dp_firmware"), None);
        assert_eq!(m("simatic_wincc"), None);
    }

    #[test]
    fn rockwell_bacnet_and_areva_names() {
        let rockwell = vendor_keys("rockwellautomation");
        let enbt = ProductIdentity::new(["Rockwell Automation/Allen-Bradley"], ["1756-ENBT/A"], []);
        assert_eq!(enbt.match_name("1756-enbt_firmware", &rockwell), Some(ProductLevel::Model));
        assert_eq!(enbt.match_name("1756-enbt\\/a_firmware", &rockwell), Some(ProductLevel::Model));
        assert_eq!(enbt.match_name("1756-en2t_firmware", &rockwell), None);
        assert_eq!(enbt.match_name("1756-en2tr_firmware", &rockwell), None);
        let l61 = ProductIdentity::new(["Rockwell Automation/Allen-Bradley"], ["1756-L61/B LOGIX5561"], []);
        assert_eq!(l61.match_name("1756-l61_firmware", &rockwell), Some(ProductLevel::Model));
        assert_eq!(l61.match_name("controllogix_5561_firmware", &rockwell), Some(ProductLevel::Model));
        assert_eq!(l61.match_name("1756-l62_firmware", &rockwell), None);
        assert_eq!(l61.match_name("1756-l61s_firmware", &rockwell), None);
        assert_eq!(l61.match_name("compactlogix_5370_firmware", &rockwell), None);
        assert_eq!(enbt.match_name("1756-l61_firmware", &rockwell), None);
        let acuity = vendor_keys("acuitybrands");
        let mlx = ProductIdentity::new(["Lithonia Lighting, Inc."], ["SYSC MLX"], []);
        assert!(mlx.vendor_matches(&acuity));
        assert_eq!(mlx.match_name("synergy_sysc_mlx_firmware", &acuity), Some(ProductLevel::ModelLoose));
        assert_eq!(mlx.match_name("sysc_mlx", &acuity), Some(ProductLevel::Model));
        assert_eq!(mlx.match_name("sysc_mlx_2", &acuity), None);
        let areva = vendor_keys("areva");
        let ied = ProductIdentity::new(["AREVA T&D Corporation"], ["e-terracomm"], []);
        assert_eq!(ied.match_name("e-terracomm_firmware", &areva), Some(ProductLevel::Model));
        assert_eq!(ied.match_name("e-terracontrol", &areva), None);
    }
}
