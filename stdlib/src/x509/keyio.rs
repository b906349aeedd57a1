//! `RSA` key import and export: DER (`ImportSubjectPublicKeyInfo`, ...),
//! PEM (`ImportFromPem`, `Export...Pem`) and XML (`FromXmlString`, `ToXmlString`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rhai::{Array, Blob, Dynamic, Engine, INT, ImmutableString};
use rsa::pkcs1::{
    DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey, EncodeRsaPublicKey,
};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};

use super::der::read;
use super::rsa::{Keys, Rsa, blob_arg};
use crate::core::{RhaiResult, throw};

fn bad_key<T>() -> RhaiResult<T> {
    throw("CryptographicException", "ASN1 corrupted data.")
}

fn private_keys(k: RsaPrivateKey) -> Keys {
    Keys {
        public: k.to_public_key(),
        private: Some(k),
    }
}

fn public_keys(k: RsaPublicKey) -> Keys {
    Keys {
        public: k,
        private: None,
    }
}

/// The length of the first DER element (`bytesRead`), and that element.
fn first_element(data: &[u8]) -> RhaiResult<&[u8]> {
    match read(data) {
        Ok((t, _)) => Ok(t.raw),
        Err(_) => bad_key(),
    }
}

#[derive(Clone, Copy)]
enum Format {
    RsaPublic,
    Spki,
    RsaPrivate,
    Pkcs8,
}

fn import(k: &Rsa, data: &Dynamic, f: Format) -> RhaiResult<Array> {
    let data = blob_arg(data, "source")?;
    let der = first_element(&data)?;
    let keys = match f {
        Format::RsaPublic => RsaPublicKey::from_pkcs1_der(der).map(public_keys).ok(),
        Format::Spki => RsaPublicKey::from_public_key_der(der).map(public_keys).ok(),
        Format::RsaPrivate => RsaPrivateKey::from_pkcs1_der(der).map(private_keys).ok(),
        Format::Pkcs8 => RsaPrivateKey::from_pkcs8_der(der).map(private_keys).ok(),
    };
    match keys {
        Some(keys) => k.set(keys)?,
        None => return bad_key(),
    }
    Ok(vec![Dynamic::UNIT, Dynamic::from_int(der.len() as INT)])
}

fn export(k: &Rsa, f: Format) -> RhaiResult<Blob> {
    let keys = k.keys()?;
    let der = match f {
        Format::RsaPublic => keys
            .public
            .to_pkcs1_der()
            .map(|d| d.as_bytes().to_vec())
            .ok(),
        Format::Spki => keys
            .public
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .ok(),
        Format::RsaPrivate => k
            .private()?
            .to_pkcs1_der()
            .map(|d| d.as_bytes().to_vec())
            .ok(),
        Format::Pkcs8 => k
            .private()?
            .to_pkcs8_der()
            .map(|d| d.as_bytes().to_vec())
            .ok(),
    };
    match der {
        Some(d) => Ok(d),
        None => throw("CryptographicException", "Key does not exist."),
    }
}

/// PEM armor, 64 columns, `\n` line ends (what .NET's `PemEncoding.Write` gives).
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----"));
    out
}

/// The (label, DER) of every PEM block in `text`.
pub(crate) fn pem_blocks(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let body = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body.find(&end_marker) else {
            break;
        };
        let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(der) = STANDARD.decode(b64) {
            out.push((label.to_owned(), der));
        }
        rest = &body[end + end_marker.len()..];
    }
    out
}

fn import_pem(k: &Rsa, text: &str, password: Option<&[u8]>) -> RhaiResult<()> {
    let labels = [
        "PUBLIC KEY",
        "RSA PUBLIC KEY",
        "PRIVATE KEY",
        "RSA PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
    ];
    let found: Vec<_> = pem_blocks(text)
        .into_iter()
        .filter(|(l, _)| labels.contains(&l.as_str()))
        .collect();
    let [(label, der)] = found.as_slice() else {
        let msg = if found.is_empty() {
            "No supported key formats were found. Check that the input represents the contents of a PEM-encoded key file, not the path to such a file. (Parameter 'input')"
        } else {
            "The input contains multiple keys, but only one key can be imported. (Parameter 'input')"
        };
        return throw("ArgumentException", msg);
    };
    let keys = match (label.as_str(), password) {
        ("ENCRYPTED PRIVATE KEY", None) => {
            return throw(
                "ArgumentException",
                "An encrypted key was found, but no password was provided. Use ImportFromEncryptedPem to import this key. (Parameter 'input')",
            );
        }
        ("ENCRYPTED PRIVATE KEY", Some(pw)) => RsaPrivateKey::from_pkcs8_encrypted_der(der, pw)
            .map(private_keys)
            .ok(),
        (_, Some(_)) => {
            return throw(
                "ArgumentException",
                "No supported key formats were found. Check that the input represents the contents of a PEM-encoded key file, not the path to such a file. (Parameter 'input')",
            );
        }
        ("PUBLIC KEY", None) => RsaPublicKey::from_public_key_der(der).map(public_keys).ok(),
        ("RSA PUBLIC KEY", None) => RsaPublicKey::from_pkcs1_der(der).map(public_keys).ok(),
        ("PRIVATE KEY", None) => RsaPrivateKey::from_pkcs8_der(der).map(private_keys).ok(),
        _ => RsaPrivateKey::from_pkcs1_der(der).map(private_keys).ok(),
    };
    match keys {
        Some(keys) => k.set(keys),
        None => bad_key(),
    }
}

/// `<RSAKeyValue><Modulus>..</Modulus>...</RSAKeyValue>`.
fn from_xml(k: &Rsa, xml: &str) -> RhaiResult<()> {
    let field = |name: &str| -> RhaiResult<Option<BigUint>> {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let Some(start) = xml.find(&open) else {
            return Ok(None);
        };
        let body = &xml[start + open.len()..];
        let Some(end) = body.find(&close) else {
            return bad_xml();
        };
        let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        match STANDARD.decode(b64) {
            Ok(b) => Ok(Some(BigUint::from_bytes_be(&b))),
            Err(_) => bad_xml(),
        }
    };
    if !xml.contains("<RSAKeyValue>") {
        return bad_xml();
    }
    let (Some(n), Some(e)) = (field("Modulus")?, field("Exponent")?) else {
        return bad_xml();
    };
    let keys = match (field("D")?, field("P")?, field("Q")?) {
        (Some(d), Some(p), Some(q)) => RsaPrivateKey::from_components(n, e, d, vec![p, q])
            .map(private_keys)
            .ok(),
        (None, None, None) => RsaPublicKey::new(n, e).map(public_keys).ok(),
        _ => return bad_xml(),
    };
    match keys {
        Some(keys) => k.set(keys),
        None => bad_xml(),
    }
}

fn bad_xml<T>() -> RhaiResult<T> {
    throw(
        "CryptographicException",
        "Input string does not contain a valid encoding of the 'RSA' 'RSAKeyValue' parameter.",
    )
}

/// Big-endian bytes left-padded to `len`.
fn fixed(v: &BigUint, len: usize) -> String {
    let b = v.to_bytes_be();
    let mut out = vec![0u8; len.saturating_sub(b.len())];
    out.extend(b);
    STANDARD.encode(out)
}

fn to_xml(k: &Rsa, private: bool) -> RhaiResult<String> {
    let keys = k.keys()?;
    let n = keys.public.n();
    let size = keys.public.size();
    let mut out = format!(
        "<RSAKeyValue><Modulus>{}</Modulus><Exponent>{}</Exponent>",
        fixed(n, size),
        STANDARD.encode(keys.public.e().to_bytes_be())
    );
    if private {
        let key = k.private()?;
        let half = size.div_ceil(2);
        let (Some(p), Some(q), Some(dp), Some(dq), Some(qi)) = (
            key.primes().first(),
            key.primes().get(1),
            key.dp(),
            key.dq(),
            key.crt_coefficient(),
        ) else {
            return throw("CryptographicException", "Key does not exist.");
        };
        out.push_str(&format!(
            "<P>{}</P><Q>{}</Q><DP>{}</DP><DQ>{}</DQ><InverseQ>{}</InverseQ><D>{}</D>",
            fixed(p, half),
            fixed(q, half),
            fixed(dp, half),
            fixed(dq, half),
            fixed(&qi, half),
            fixed(key.d(), size)
        ));
    }
    out.push_str("</RSAKeyValue>");
    Ok(out)
}

pub(crate) fn register(e: &mut Engine) {
    let imports = [
        ("ImportRSAPublicKey", Format::RsaPublic),
        ("ImportSubjectPublicKeyInfo", Format::Spki),
        ("ImportRSAPrivateKey", Format::RsaPrivate),
        ("ImportPkcs8PrivateKey", Format::Pkcs8),
    ];
    for (name, f) in imports {
        e.register_fn(format!("{name}__out"), move |k: &mut Rsa, d: Dynamic| {
            import(k, &d, f)
        });
        e.register_fn(name, move |k: &mut Rsa, d: Dynamic| {
            import(k, &d, f).map(|_| ())
        });
    }
    let exports = [
        ("RSAPublicKey", Format::RsaPublic, "RSA PUBLIC KEY"),
        ("SubjectPublicKeyInfo", Format::Spki, "PUBLIC KEY"),
        ("RSAPrivateKey", Format::RsaPrivate, "RSA PRIVATE KEY"),
        ("Pkcs8PrivateKey", Format::Pkcs8, "PRIVATE KEY"),
    ];
    for (name, f, label) in exports {
        e.register_fn(format!("Export{name}"), move |k: &mut Rsa| export(k, f));
        e.register_fn(format!("Export{name}Pem"), move |k: &mut Rsa| {
            export(k, f).map(|d| pem(label, &d))
        });
    }
    e.register_fn(
        "ImportEncryptedPkcs8PrivateKey__out",
        |k: &mut Rsa, pw: ImmutableString, d: Dynamic| -> RhaiResult<Array> {
            let data = blob_arg(&d, "source")?;
            let der = first_element(&data)?;
            match RsaPrivateKey::from_pkcs8_encrypted_der(der, pw.as_bytes()) {
                Ok(key) => k.set(private_keys(key))?,
                Err(_) => return bad_key(),
            }
            Ok(vec![Dynamic::UNIT, Dynamic::from_int(der.len() as INT)])
        },
    )
    .register_fn("ImportFromPem", |k: &mut Rsa, s: ImmutableString| {
        import_pem(k, &s, None)
    })
    .register_fn(
        "ImportFromEncryptedPem",
        |k: &mut Rsa, s: ImmutableString, pw: ImmutableString| {
            import_pem(k, &s, Some(pw.as_bytes()))
        },
    )
    .register_fn("FromXmlString", |k: &mut Rsa, s: ImmutableString| {
        from_xml(k, &s)
    })
    .register_fn("ToXmlString", |k: &mut Rsa, private: bool| {
        to_xml(k, private)
    });
}
