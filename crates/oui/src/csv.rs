//! Minimal RFC 4180 record reader for the IEEE registry CSV files: fields
//! separated by commas, optionally double-quoted (with `""` as an escaped
//! quote), quoted fields may span lines, records end with LF or CRLF.

/// One CSV record and the (1-based) line it starts on.
pub(crate) struct Record {
    /// Line number of the record's first character.
    pub line: usize,
    /// The unquoted field values.
    pub fields: Vec<String>,
}

/// Malformed CSV: where and why.
pub(crate) struct CsvError {
    /// Line number the problem was found on.
    pub line: usize,
    /// Short description of the problem.
    pub reason: &'static str,
}

/// Splits `text` into records.
pub(crate) fn records(text: &str) -> Result<Vec<Record>, CsvError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if chars.next_if_eq(&'"').is_some() {
                loop {
                    match chars.next() {
                        None => return Err(CsvError { line: start, reason: "unterminated quoted field" }),
                        Some('"') if chars.next_if_eq(&'"').is_some() => field.push('"'),
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            field.push(c);
                        }
                    }
                }
            } else {
                while let Some(c) = chars.next_if(|c| !matches!(c, ',' | '\n' | '\r')) {
                    field.push(c);
                }
            }
            fields.push(field);
            match chars.next() {
                Some(',') => {}
                Some('\r') => {
                    chars.next_if_eq(&'\n');
                    line += 1;
                    break;
                }
                Some('\n') => {
                    line += 1;
                    break;
                }
                None => break,
                Some(_) => return Err(CsvError { line, reason: "unexpected character after a closing quote" }),
            }
        }
        out.push(Record { line: start, fields });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<(usize, Vec<String>)> {
        match records(text) {
            Ok(r) => r.into_iter().map(|r| (r.line, r.fields)).collect(),
            Err(e) => panic!("line {}: {}", e.line, e.reason),
        }
    }

    #[test]
    fn quoting_and_line_numbers() {
        let got = parse("a,\"b, c\",\"say \"\"hi\"\"\"\r\nx,\"multi\nline\",y\nlast,");
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (1, vec!["a".into(), "b, c".into(), "say \"hi\"".into()]));
        assert_eq!(got[1], (2, vec!["x".into(), "multi\nline".into(), "y".into()]));
        assert_eq!(got[2], (4, vec!["last".into(), String::new()]));
    }

    #[test]
    fn errors_name_the_line() {
        let e = records("a,b\n\"open,c\nd\n").err().map(|e| (e.line, e.reason));
        assert_eq!(e, Some((2, "unterminated quoted field")));
        let e = records("a\nb\n\"q\"x,c\n").err().map(|e| e.line);
        assert_eq!(e, Some(3));
    }
}
