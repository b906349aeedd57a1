//! Reading one certificate: what `X509Certificate2` exposes, computed once.

use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode, Tag, Tagged};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;

/// An immutable parsed certificate.
pub(crate) struct CertData {
    pub der: Vec<u8>,
    pub subject: String,
    pub issuer: String,
    /// Attribute (OID, value) pairs in encoding order, for `GetNameInfo`.
    pub subject_attrs: Vec<(String, String)>,
    pub issuer_attrs: Vec<(String, String)>,
    pub not_before: i64,
    pub not_after: i64,
    /// The serial's big-endian content bytes.
    pub serial: Vec<u8>,
    pub version: i64,
    pub sig_alg: String,
    pub key_alg: String,
    /// The subjectPublicKey BIT STRING's bytes (`GetPublicKey()`).
    pub key_bytes: Vec<u8>,
    /// The whole SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
    pub rsa_public: Option<RsaPublicKey>,
    pub dns_names: Vec<String>,
    pub emails: Vec<String>,
    pub uris: Vec<String>,
}

impl CertData {
    pub(crate) fn parse(der: &[u8]) -> Option<CertData> {
        let cert = Certificate::from_der(der).ok()?;
        let tbs = &cert.tbs_certificate;
        let spki = tbs.subject_public_key_info.to_der().ok()?;
        let secs = |t: x509_cert::time::Time| i64::try_from(t.to_unix_duration().as_secs()).ok();
        let mut data = CertData {
            der: der.to_vec(),
            subject: name_string(&tbs.subject),
            issuer: name_string(&tbs.issuer),
            subject_attrs: attrs(&tbs.subject),
            issuer_attrs: attrs(&tbs.issuer),
            not_before: secs(tbs.validity.not_before)?,
            not_after: secs(tbs.validity.not_after)?,
            serial: tbs.serial_number.as_bytes().to_vec(),
            version: match tbs.version {
                x509_cert::Version::V1 => 1,
                x509_cert::Version::V2 => 2,
                x509_cert::Version::V3 => 3,
            },
            sig_alg: cert.signature_algorithm.oid.to_string(),
            key_alg: tbs.subject_public_key_info.algorithm.oid.to_string(),
            key_bytes: tbs
                .subject_public_key_info
                .subject_public_key
                .raw_bytes()
                .to_vec(),
            rsa_public: RsaPublicKey::from_public_key_der(&spki).ok(),
            spki,
            dns_names: Vec::new(),
            emails: Vec::new(),
            uris: Vec::new(),
        };
        let san = tbs
            .extensions
            .iter()
            .flatten()
            .find(|x| x.extn_id.to_string() == "2.5.29.17");
        if let Some(san) = san.and_then(|x| SubjectAltName::from_der(x.extn_value.as_bytes()).ok())
        {
            for name in san.0 {
                let text = |s: &x509_cert::der::asn1::Ia5String| s.to_string();
                match &name {
                    GeneralName::DnsName(s) => data.dns_names.push(text(s)),
                    GeneralName::Rfc822Name(s) => data.emails.push(text(s)),
                    GeneralName::UniformResourceIdentifier(s) => data.uris.push(text(s)),
                    _ => {}
                }
            }
        }
        Some(data)
    }

    pub(crate) fn thumbprint(&self) -> Vec<u8> {
        sha1::Sha1::digest(&self.der).to_vec()
    }

    /// `GetNameInfo(type, forIssuer)`.
    pub(crate) fn name_info(&self, kind: &str, for_issuer: bool) -> String {
        let attrs = if for_issuer {
            &self.issuer_attrs
        } else {
            &self.subject_attrs
        };
        let last = |oid: &str| {
            attrs
                .iter()
                .rev()
                .find(|(o, _)| o == oid)
                .map(|(_, v)| v.clone())
        };
        let simple = || {
            ["2.5.4.3", "2.5.4.11", "2.5.4.10", "1.2.840.113549.1.9.1"]
                .iter()
                .find_map(|o| last(o))
                .or_else(|| attrs.last().map(|(_, v)| v.clone()))
                .unwrap_or_default()
        };
        // Alternative names describe the subject only.
        let alt = |list: &Vec<String>| {
            if for_issuer {
                None
            } else {
                list.first().cloned()
            }
        };
        match kind {
            "SimpleName" => simple(),
            "EmailName" => last("1.2.840.113549.1.9.1")
                .or_else(|| alt(&self.emails))
                .unwrap_or_default(),
            "DnsName" => alt(&self.dns_names)
                .or_else(|| last("2.5.4.3"))
                .unwrap_or_default(),
            "DnsFromAlternativeName" => alt(&self.dns_names).unwrap_or_default(),
            "UrlName" => alt(&self.uris).unwrap_or_default(),
            _ => String::new(),
        }
    }
}

/// The short names .NET prints for attribute types; others print as `OID.x.y`.
fn attr_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "SERIALNUMBER",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "S",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "T",
        "2.5.4.42" => "G",
        "2.5.4.43" => "I",
        "1.2.840.113549.1.9.1" => "E",
        "0.9.2342.19200300.100.1.25" => "DC",
        _ => return None,
    })
}

/// An attribute value as .NET decodes it, and whether it fell back to `#hex`.
fn attr_value(v: &x509_cert::der::Any) -> (String, bool) {
    let bytes = v.value();
    let text = match v.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::NumericString => {
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
        Tag::TeletexString => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|c| {
                    u16::from_be_bytes([
                        c.first().copied().unwrap_or(0),
                        c.get(1).copied().unwrap_or(0),
                    ])
                })
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        _ => None,
    };
    match text {
        Some(t) => (t.trim_end_matches('\0').to_owned(), false),
        None => {
            let raw = if v.tag() == Tag::OctetString {
                bytes.to_vec()
            } else {
                v.to_der().unwrap_or_default()
            };
            (format!("#{}", super::hex_upper(&raw)), true)
        }
    }
}

fn attrs(name: &Name) -> Vec<(String, String)> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .map(|atv| (atv.oid.to_string(), attr_value(&atv.value).0))
        .collect()
}

fn needs_quoting(v: &str) -> bool {
    let ws = |c: char| c == ' ' || ('\u{9}'..='\u{d}').contains(&c);
    v.is_empty()
        || v.starts_with(ws)
        || v.ends_with(ws)
        || v.contains([',', '+', '=', '"', '\n', '<', '>', '#', ';'])
}

/// `X500DistinguishedName.Name`: RDNs last to first, `", "` between them,
/// `" + "` inside a multi-valued RDN, values quoted when needed.
pub(crate) fn name_string(name: &Name) -> String {
    let rdns: Vec<String> = name
        .0
        .iter()
        .rev()
        .map(|rdn| {
            rdn.0
                .iter()
                .map(|atv| {
                    let oid = atv.oid.to_string();
                    let key = attr_name(&oid).map_or_else(|| format!("OID.{oid}"), str::to_owned);
                    let (value, fallback) = attr_value(&atv.value);
                    if !fallback && needs_quoting(&value) {
                        format!("{key}=\"{}\"", value.replace('"', "\"\""))
                    } else {
                        format!("{key}={value}")
                    }
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect();
    rdns.join(", ")
}
