//! A small BER/DER reader: enough ASN.1 to walk a PFX, which may use BER's
//! indefinite lengths and constructed OCTET STRINGs.

/// One element: its tag byte, its content, and its whole encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

/// Nesting bound for indefinite-length and constructed elements.
const MAX_DEPTH: usize = 32;

#[derive(Debug)]
pub(crate) struct BadDer;

/// The first element of `input` and what follows it.
pub(crate) fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), BadDer> {
    read_at(input, 0)
}

fn read_at(input: &[u8], depth: usize) -> Result<(Tlv<'_>, &[u8]), BadDer> {
    if depth > MAX_DEPTH {
        return Err(BadDer);
    }
    let (&tag, rest) = input.split_first().ok_or(BadDer)?;
    if tag & 0x1f == 0x1f {
        // High tag numbers never occur in PKCS#12 or X.509.
        return Err(BadDer);
    }
    let (&first, mut rest) = rest.split_first().ok_or(BadDer)?;
    let header = input.len() - rest.len();
    if first == 0x80 {
        // Indefinite length: elements up to the end-of-contents marker.
        if tag & 0x20 == 0 {
            return Err(BadDer);
        }
        let start = rest;
        loop {
            if rest.starts_with(&[0, 0]) {
                let content_len = start.len() - rest.len();
                let total = header + content_len + 2;
                let content = start.get(..content_len).ok_or(BadDer)?;
                let raw = input.get(..total).ok_or(BadDer)?;
                let after = input.get(total..).ok_or(BadDer)?;
                return Ok((Tlv { tag, content, raw }, after));
            }
            let (_, next) = read_at(rest, depth + 1)?;
            rest = next;
        }
    }
    let len = if first & 0x80 == 0 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 {
            return Err(BadDer);
        }
        let bytes = rest.get(..n).ok_or(BadDer)?;
        rest = rest.get(n..).ok_or(BadDer)?;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let header = input.len() - rest.len();
    let content = rest.get(..len).ok_or(BadDer)?;
    let raw = input.get(..header + len).ok_or(BadDer)?;
    let after = input.get(header + len..).ok_or(BadDer)?;
    Ok((Tlv { tag, content, raw }, after))
}

/// All the elements of a constructed element's content.
pub(crate) fn read_all(mut input: &[u8]) -> Result<Vec<Tlv<'_>>, BadDer> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (t, rest) = read(input)?;
        out.push(t);
        input = rest;
    }
    Ok(out)
}

impl Tlv<'_> {
    /// The bytes of an OCTET STRING, primitive or (BER) constructed.
    pub(crate) fn octets(&self) -> Result<Vec<u8>, BadDer> {
        self.octets_at(0)
    }

    fn octets_at(&self, depth: usize) -> Result<Vec<u8>, BadDer> {
        if depth > MAX_DEPTH {
            return Err(BadDer);
        }
        match self.tag {
            // OCTET STRING, or a [0] IMPLICIT one.
            0x04 | 0x80 => Ok(self.content.to_vec()),
            0x24 | 0xa0 => {
                let mut out = Vec::new();
                for part in read_all(self.content)? {
                    out.extend(part.octets_at(depth + 1)?);
                }
                Ok(out)
            }
            _ => Err(BadDer),
        }
    }
}

/// A small non-negative INTEGER.
pub(crate) fn parse_int(content: &[u8]) -> Option<u64> {
    if content.is_empty() || content.len() > 8 || content.first().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    Some(
        content
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
    )
}

/// The dotted form of an OBJECT IDENTIFIER's content.
pub(crate) fn oid_string(content: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for &b in content {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (acc / 40).min(2);
                arcs.push(first);
                arcs.push(acc - first * 40);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}
