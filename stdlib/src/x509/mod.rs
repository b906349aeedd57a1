//! `System.Security.Cryptography.X509Certificates` and RSA:
//! `X509Certificate2` from DER, PEM or PKCS#12 bytes (`new
//! X509Certificate2(bytes[, password])`, `CreateFromPem`), its properties
//! (`Thumbprint`, `Subject`, `Issuer`, `NotBefore`, ...) and keys
//! (`GetRSAPrivateKey()`, `GetRSAPublicKey()`, `PublicKey`); `RSA` signing,
//! verification and encryption (`rsa.rs`), key import/export (`keyio.rs`).
//!
//! `Verify()` (and APIM's `VerifyNoRevocation()`) build no chain: Sluice has
//! no trust store for expressions, so they return `false`, as .NET does for a
//! certificate whose chain does not reach a trusted root.

mod cert;
mod der;
mod keyio;
mod pfx;
mod rsa;

use std::sync::Arc;

use base64::Engine as _;
use rhai::{Blob, Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use self::cert::CertData;
use self::pfx::PfxError;
use self::rsa::{Keys, Rsa};
use crate::convert::null_arg;
use crate::core::{RhaiResult, throw};

pub(crate) fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// An `X509Certificate2` (immutable, so sharing the parse is safe).
#[derive(Clone)]
pub struct X509Certificate2 {
    data: Arc<CertData>,
    private: Option<Arc<::rsa::RsaPrivateKey>>,
    /// A private key of another algorithm (EC, ...): `HasPrivateKey` only.
    other_private: bool,
}

/// `X500DistinguishedName` (only `Name` is allowed in APIM).
#[derive(Clone)]
pub struct X500DistinguishedName(ImmutableString);

/// `Oid`.
#[derive(Clone, PartialEq, Eq)]
pub struct Oid {
    value: Option<ImmutableString>,
    friendly: Option<ImmutableString>,
}

/// `PublicKey` of a certificate.
#[derive(Clone)]
pub struct PublicKey(Arc<CertData>);

/// `X509NameType`, printed by name.
#[derive(Clone, PartialEq, Eq)]
pub struct X509NameType(&'static str);

/// `X509ContentType`, printed by name.
#[derive(Clone, PartialEq, Eq)]
pub struct X509ContentType(&'static str);

fn friendly_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.113549.1.1.5" => "sha1RSA",
        "1.2.840.113549.1.1.4" => "md5RSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.113549.1.1.11" => "sha256RSA",
        "1.2.840.113549.1.1.12" => "sha384RSA",
        "1.2.840.113549.1.1.13" => "sha512RSA",
        "1.2.840.10045.2.1" => "ECC",
        "1.2.840.10045.4.3.2" => "sha256ECDSA",
        "1.2.840.10045.4.3.3" => "sha384ECDSA",
        "1.2.840.10045.4.3.4" => "sha512ECDSA",
        "1.3.14.3.2.26" => "sha1",
        "2.16.840.1.101.3.4.2.1" => "sha256",
        "2.16.840.1.101.3.4.2.2" => "sha384",
        "2.16.840.1.101.3.4.2.3" => "sha512",
        "2.5.29.17" => "Subject Alternative Name",
        "2.5.29.19" => "Basic Constraints",
        "2.5.29.15" => "Key Usage",
        "2.5.29.37" => "Enhanced Key Usage",
        _ => return None,
    })
}

fn oid(value: &str) -> Oid {
    Oid {
        value: Some(value.into()),
        friendly: friendly_name(value).map(Into::into),
    }
}

fn cannot_find<T>() -> RhaiResult<T> {
    throw(
        "CryptographicException",
        "Cannot find the requested object.",
    )
}

/// `new X509Certificate2(rawData, password)`.
fn load(raw: &Dynamic, password: Option<&str>) -> RhaiResult<X509Certificate2> {
    if raw.is_unit() {
        return null_arg("rawData");
    }
    let Some(raw) = raw.clone().try_cast::<Blob>() else {
        return throw(
            "CryptographicException",
            "Sluice cannot open certificate files; pass the certificate's bytes.",
        );
    };
    if raw.is_empty() {
        return throw(
            "ArgumentException",
            "Array may not be empty or null. (Parameter 'rawData')",
        );
    }
    if pfx::looks_like_pfx(&raw) {
        return from_pfx(&raw, password);
    }
    let text = String::from_utf8_lossy(&raw);
    let der = match keyio::pem_blocks(&text)
        .into_iter()
        .find(|(l, _)| l == "CERTIFICATE")
    {
        Some((_, der)) => der,
        None if text.trim_start().starts_with("MII") => {
            // Base64 text of DER, which .NET's loader also accepts.
            let b64: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            match base64::engine::general_purpose::STANDARD.decode(b64) {
                Ok(d) => d,
                Err(_) => return cannot_find(),
            }
        }
        None => raw.to_vec(),
    };
    match CertData::parse(&der) {
        Some(data) => Ok(X509Certificate2 {
            data: Arc::new(data),
            private: None,
            other_private: false,
        }),
        None => cannot_find(),
    }
}

/// The certificate a PFX gives `X509Certificate2`: the first one with a
/// private key, else the first one.
fn from_pfx(raw: &[u8], password: Option<&str>) -> RhaiResult<X509Certificate2> {
    let pfx = match pfx::parse(raw, password) {
        Ok(p) => p,
        Err(PfxError::BadPassword) => {
            return throw(
                "CryptographicException",
                "The specified network password is not correct.",
            );
        }
        Err(PfxError::Malformed) => return cannot_find(),
        Err(PfxError::Unsupported(oid)) => {
            return throw(
                "CryptographicException",
                format!("The PKCS#12 algorithm '{oid}' is not supported."),
            );
        }
        Err(PfxError::TooManyIterations) => {
            return throw(
                "CryptographicException",
                "The PKCS#12/PFX violated the 'TotalKdfIterationLimit' limit.",
            );
        }
    };
    use ::rsa::pkcs8::DecodePrivateKey;
    let certs: Vec<(CertData, Option<Vec<u8>>)> = pfx
        .certs
        .iter()
        .filter_map(|(der, id)| CertData::parse(der).map(|c| (c, id.clone())))
        .collect();
    for (key_der, key_id) in &pfx.keys {
        let rsa_key = ::rsa::RsaPrivateKey::from_pkcs8_der(key_der).ok();
        let public = rsa_key.as_ref().map(::rsa::RsaPrivateKey::to_public_key);
        let matching = certs.iter().position(|(c, id)| {
            (key_id.is_some() && id == key_id)
                || (public.is_some() && c.rsa_public.as_ref() == public.as_ref())
        });
        if let Some(i) = matching {
            let Some((data, _)) = certs.into_iter().nth(i) else {
                return cannot_find();
            };
            return Ok(X509Certificate2 {
                data: Arc::new(data),
                other_private: rsa_key.is_none(),
                private: rsa_key.map(Arc::new),
            });
        }
    }
    match certs.into_iter().next() {
        Some((data, _)) => Ok(X509Certificate2 {
            data: Arc::new(data),
            private: None,
            other_private: false,
        }),
        None => cannot_find(),
    }
}

/// What the gateway takes from a PKCS#12 file (`[certificates.ID]`).
pub struct PfxContents {
    /// DER, the certificate of the key first.
    pub certificates: Vec<Vec<u8>>,
    /// The private key, PKCS#8 DER.
    pub key: Option<Vec<u8>>,
}

/// Whether `raw` looks like a PKCS#12 file.
pub fn is_pfx(raw: &[u8]) -> bool {
    pfx::looks_like_pfx(raw)
}

/// Reads a PKCS#12 file; the error never holds the password.
pub fn read_pfx(raw: &[u8], password: Option<&str>) -> Result<PfxContents, String> {
    let mut pfx = pfx::parse(raw, password).map_err(|e| match e {
        PfxError::BadPassword => "the password is not correct".to_owned(),
        PfxError::Malformed => "it is not a valid PKCS#12 file".to_owned(),
        PfxError::Unsupported(oid) => format!("the PKCS#12 algorithm `{oid}` is not supported"),
        PfxError::TooManyIterations => "its key derivation asks for too many iterations".to_owned(),
    })?;
    let Some((key, key_id)) = pfx.keys.first().cloned() else {
        return Ok(PfxContents {
            certificates: pfx.certs.into_iter().map(|(d, _)| d).collect(),
            key: None,
        });
    };
    use ::rsa::pkcs8::DecodePrivateKey;
    let public = ::rsa::RsaPrivateKey::from_pkcs8_der(&key)
        .ok()
        .map(|k| k.to_public_key());
    let of_key = pfx.certs.iter().position(|(der, id)| {
        (key_id.is_some() && *id == key_id)
            || (public.is_some() && CertData::parse(der).and_then(|c| c.rsa_public) == public)
    });
    if let Some(i) = of_key {
        let leaf = pfx.certs.remove(i);
        pfx.certs.insert(0, leaf);
    }
    Ok(PfxContents {
        certificates: pfx.certs.into_iter().map(|(d, _)| d).collect(),
        key: Some(key),
    })
}

fn date(ctx: &NativeCallContext, secs: i64) -> RhaiResult<Dynamic> {
    let offset: Dynamic = ctx.call_native_fn("DateTimeOffset__FromUnixTimeSeconds", (secs,))?;
    ctx.call_native_fn("get$UtcDateTime", (offset,))
}

fn invariant_date(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%m/%d/%Y %H:%M:%S").to_string())
        .unwrap_or_default()
}

impl std::fmt::Debug for X509Certificate2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X509Certificate2")
            .field("subject", &self.data.subject)
            .field("thumbprint", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

/// What the gateway reads of a certificate (a client's, from the TLS
/// handshake; a backend client certificate) outside expressions.
impl X509Certificate2 {
    /// A certificate from its DER bytes, without a private key.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        CertData::parse(der).map(|d| Self {
            data: Arc::new(d),
            private: None,
            other_private: false,
        })
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.data.der
    }

    /// `Thumbprint`: the SHA-1 of the DER, upper-case hex.
    pub fn thumbprint(&self) -> String {
        hex_upper(&self.data.thumbprint())
    }

    /// `SerialNumber`: upper-case hex.
    pub fn serial_number(&self) -> String {
        hex_upper(&self.data.serial)
    }

    /// `Subject`, as .NET prints it (`CN=a, O=b`).
    pub fn subject(&self) -> &str {
        &self.data.subject
    }

    /// `Issuer`, as .NET prints it.
    pub fn issuer(&self) -> &str {
        &self.data.issuer
    }

    /// `GetNameInfo(X509NameType.SimpleName, false)`: the common name, else the
    /// first of OU, O, e-mail.
    pub fn simple_name(&self) -> String {
        self.data.name_info("SimpleName", false)
    }

    /// The DNS names of its subject alternative names.
    pub fn dns_names(&self) -> &[String] {
        &self.data.dns_names
    }

    /// `NotBefore` and `NotAfter`, in seconds since the Unix epoch.
    pub fn validity(&self) -> (i64, i64) {
        (self.data.not_before, self.data.not_after)
    }

    /// The subject public key: its algorithm's OID (`1.2.840.113549.1.1.1`
    /// RSA, `1.2.840.10045.2.1` EC) and its bytes (an RSA key's PKCS#1
    /// `RSAPublicKey` DER, an EC key's uncompressed point).
    pub fn public_key(&self) -> (&str, &[u8]) {
        (&self.data.key_alg, &self.data.key_bytes)
    }
}

impl X509Certificate2 {
    fn rsa_private(&self) -> Dynamic {
        match &self.private {
            Some(k) => Dynamic::from(Rsa::from_keys(Keys {
                public: k.to_public_key(),
                private: Some((**k).clone()),
            })),
            None => Dynamic::UNIT,
        }
    }

    /// `X509Certificate.ToString(true)`, which `X509Certificate2.ToString()` returns.
    fn to_dotnet_string(&self) -> String {
        let d = &self.data;
        format!(
            "[Subject]\n  {}\n\n[Issuer]\n  {}\n\n[Serial Number]\n  {}\n\n[Not Before]\n  {}\n\n[Not After]\n  {}\n\n[Thumbprint]\n  {}\n",
            d.subject,
            d.issuer,
            hex_upper(&d.serial),
            invariant_date(d.not_before),
            invariant_date(d.not_after),
            hex_upper(&d.thumbprint()),
        )
    }
}

fn rsa_public(data: &CertData) -> Dynamic {
    match &data.rsa_public {
        Some(k) => Dynamic::from(Rsa::from_keys(Keys {
            public: k.clone(),
            private: None,
        })),
        None => Dynamic::UNIT,
    }
}

fn cert_hash(c: &X509Certificate2, h: &Dynamic) -> RhaiResult<Blob> {
    let name = h
        .clone()
        .try_cast::<self::rsa::HashAlgorithmName>()
        .and_then(|h| h.0)
        .unwrap_or_default();
    let der = &c.data.der;
    use sha2::Digest;
    Ok(match name.as_str() {
        "SHA1" => sha1::Sha1::digest(der).to_vec(),
        "SHA256" => sha2::Sha256::digest(der).to_vec(),
        "SHA384" => sha2::Sha384::digest(der).to_vec(),
        "SHA512" => sha2::Sha512::digest(der).to_vec(),
        "MD5" => md5::Md5::digest(der).to_vec(),
        "" => {
            return throw(
                "ArgumentException",
                "The hash algorithm name cannot be null or empty. (Parameter 'hashAlgorithm')",
            );
        }
        other => {
            return throw(
                "CryptographicException",
                format!("'{other}' is not a known hash algorithm."),
            );
        }
    })
}

const CERT_TYPES: &[&str] = &["X509Certificate2", "X509Certificate", "Object", "object"];

fn register_certificate(e: &mut Engine) {
    type C = X509Certificate2;
    e.register_type_with_name::<C>("X509Certificate2")
        .register_fn("X509Certificate2__new", |raw: Dynamic| load(&raw, None))
        .register_fn("X509Certificate2__new", |raw: Dynamic, pw: Dynamic| {
            load(&raw, pw.into_immutable_string().ok().as_deref())
        })
        .register_fn("X509Certificate2__new", |raw: Dynamic, pw: Dynamic, _flags: Dynamic| {
            load(&raw, pw.into_immutable_string().ok().as_deref())
        })
        .register_fn("X509Certificate2__new", |c: C| c)
        .register_fn("X509Certificate2__CreateFromPem", |pem: ImmutableString| {
            load(&Dynamic::from_blob(pem.as_bytes().to_vec()), None)
        })
        .register_fn(
            "X509Certificate2__CreateFromPem",
            |ctx: NativeCallContext, pem: ImmutableString, key: ImmutableString| -> RhaiResult<C> {
                let mut c = load(&Dynamic::from_blob(pem.as_bytes().to_vec()), None)?;
                let k: Rsa = ctx.call_native_fn("RSA__Create", ())?;
                ctx.call_native_fn::<()>("ImportFromPem", (k.clone(), key))?;
                let private = k.private()?;
                if c.data.rsa_public.as_ref() != Some(&private.to_public_key()) {
                    return throw(
                        "CryptographicException",
                        "The provided key does not match the public key for this certificate. (Parameter 'privateKey')",
                    );
                }
                c.private = Some(Arc::new(private));
                Ok(c)
            },
        )
        .register_get("Thumbprint", |c: &mut C| hex_upper(&c.data.thumbprint()))
        .register_get("Subject", |c: &mut C| c.data.subject.clone())
        .register_get("Issuer", |c: &mut C| c.data.issuer.clone())
        .register_get("SubjectName", |c: &mut C| {
            X500DistinguishedName(c.data.subject.as_str().into())
        })
        .register_get("IssuerName", |c: &mut C| {
            X500DistinguishedName(c.data.issuer.as_str().into())
        })
        .register_get("NotBefore", |ctx: NativeCallContext, c: &mut C| date(&ctx, c.data.not_before))
        .register_get("NotAfter", |ctx: NativeCallContext, c: &mut C| date(&ctx, c.data.not_after))
        .register_get("SerialNumber", |c: &mut C| hex_upper(&c.data.serial))
        .register_get("Version", |c: &mut C| c.data.version)
        .register_get("HasPrivateKey", |c: &mut C| c.private.is_some() || c.other_private)
        .register_get("RawData", |c: &mut C| c.data.der.clone())
        .register_get("FriendlyName", |_: &mut C| "")
        .register_get("Archived", |_: &mut C| false)
        .register_get("SignatureAlgorithm", |c: &mut C| oid(&c.data.sig_alg))
        .register_get("PublicKey", |c: &mut C| PublicKey(c.data.clone()))
        .register_get("PrivateKey", |c: &mut C| c.rsa_private())
        .register_fn("GetCertHash", |c: &mut C| c.data.thumbprint())
        .register_fn("GetCertHash", |c: &mut C, h: Dynamic| cert_hash(c, &h))
        .register_fn("GetCertHashString", |c: &mut C| hex_upper(&c.data.thumbprint()))
        .register_fn("GetCertHashString", |c: &mut C, h: Dynamic| {
            cert_hash(c, &h).map(|b| hex_upper(&b))
        })
        .register_fn("GetSerialNumber", |c: &mut C| {
            c.data.serial.iter().rev().copied().collect::<Blob>()
        })
        .register_fn("GetSerialNumberString", |c: &mut C| hex_upper(&c.data.serial))
        .register_fn("GetRawCertData", |c: &mut C| c.data.der.clone())
        .register_fn("GetRawCertDataString", |c: &mut C| hex_upper(&c.data.der))
        .register_fn("GetPublicKey", |c: &mut C| c.data.key_bytes.clone())
        .register_fn("GetPublicKeyString", |c: &mut C| hex_upper(&c.data.key_bytes))
        .register_fn("GetKeyAlgorithm", |c: &mut C| c.data.key_alg.clone())
        .register_fn("GetName", |c: &mut C| c.data.subject.clone())
        .register_fn("GetIssuerName", |c: &mut C| c.data.issuer.clone())
        .register_fn("GetFormat", |_: &mut C| "X509")
        .register_fn("GetEffectiveDateString", |c: &mut C| invariant_date(c.data.not_before))
        .register_fn("GetExpirationDateString", |c: &mut C| invariant_date(c.data.not_after))
        .register_fn("GetNameInfo", |c: &mut C, t: X509NameType, issuer: bool| {
            c.data.name_info(t.0, issuer)
        })
        .register_fn("GetRSAPrivateKey", |c: &mut C| c.rsa_private())
        .register_fn("GetRSAPublicKey", |c: &mut C| rsa_public(&c.data))
        .register_fn("RSACertificateExtensions__GetRSAPrivateKey", |c: C| c.rsa_private())
        .register_fn("RSACertificateExtensions__GetRSAPublicKey", |c: C| rsa_public(&c.data))
        .register_fn("Verify", |_: &mut C| false)
        .register_fn("VerifyNoRevocation", |_: &mut C| false)
        .register_fn("Dispose", |_: &mut C| ())
        .register_fn("Reset", |_: &mut C| ())
        .register_fn("ToString", |c: &mut C| c.to_dotnet_string())
        .register_fn("ToString", |c: &mut C, verbose: bool| {
            if verbose {
                c.to_dotnet_string()
            } else {
                "System.Security.Cryptography.X509Certificates.X509Certificate2".into()
            }
        })
        .register_fn("Equals", |a: &mut C, b: Dynamic| {
            b.try_cast::<C>().is_some_and(|b| {
                a.data.issuer == b.data.issuer && a.data.serial == b.data.serial
            })
        })
        .register_fn("GetHashCode", |c: &mut C| {
            c.data.thumbprint().iter().take(4).fold(0 as INT, |acc, b| (acc << 8) | INT::from(*b))
        })
        .register_fn("==", |a: C, b: C| Arc::ptr_eq(&a.data, &b.data))
        .register_fn("!=", |a: C, b: C| !Arc::ptr_eq(&a.data, &b.data));
    for f in ["__as", "__cast", "__is"] {
        e.register_fn(f, move |c: C, t: ImmutableString| -> RhaiResult<Dynamic> {
            let ok = CERT_TYPES.contains(&t.as_str());
            match (f, ok) {
                ("__is", _) => Ok(Dynamic::from_bool(ok)),
                (_, true) => Ok(Dynamic::from(c)),
                ("__as", false) => Ok(Dynamic::UNIT),
                _ => throw(
                    "InvalidCastException",
                    format!("Unable to cast object of type 'System.Security.Cryptography.X509Certificates.X509Certificate2' to type 'System.{t}'."),
                ),
            }
        });
    }
}

fn register_helpers(e: &mut Engine) {
    e.register_type_with_name::<X500DistinguishedName>("X500DistinguishedName")
        .register_get("Name", |n: &mut X500DistinguishedName| n.0.clone())
        .register_fn("ToString", |_: &mut X500DistinguishedName| {
            "System.Security.Cryptography.X509Certificates.X500DistinguishedName"
        });
    e.register_type_with_name::<Oid>("Oid")
        .register_fn("Oid__new", |v: ImmutableString| oid(&v))
        .register_fn("Oid__new", |v: ImmutableString, f: ImmutableString| Oid {
            value: Some(v),
            friendly: Some(f),
        })
        .register_get("Value", |o: &mut Oid| {
            o.value.clone().map_or(Dynamic::UNIT, Dynamic::from)
        })
        .register_get("FriendlyName", |o: &mut Oid| {
            o.friendly.clone().map_or(Dynamic::UNIT, Dynamic::from)
        })
        .register_fn("ToString", |_: &mut Oid| "System.Security.Cryptography.Oid");
    e.register_type_with_name::<PublicKey>("PublicKey")
        .register_get("Oid", |k: &mut PublicKey| oid(&k.0.key_alg))
        .register_get("Key", |k: &mut PublicKey| rsa_public(&k.0))
        .register_fn("GetRSAPublicKey", |k: &mut PublicKey| rsa_public(&k.0))
        .register_fn("ExportSubjectPublicKeyInfo", |k: &mut PublicKey| {
            k.0.spki.clone()
        })
        .register_fn(
            "ToString",
            |_: &mut PublicKey| "System.Security.Cryptography.X509Certificates.PublicKey",
        );
    e.register_type_with_name::<X509NameType>("X509NameType")
        .register_fn("ToString", |v: &mut X509NameType| v.0)
        .register_fn("==", |a: X509NameType, b: X509NameType| a == b)
        .register_fn("!=", |a: X509NameType, b: X509NameType| a != b);
    for n in [
        "SimpleName",
        "EmailName",
        "UpnName",
        "DnsName",
        "DnsFromAlternativeName",
        "UrlName",
    ] {
        e.register_fn(format!("X509NameType__{n}"), move || X509NameType(n));
    }
    e.register_type_with_name::<X509ContentType>("X509ContentType")
        .register_fn("ToString", |v: &mut X509ContentType| v.0)
        .register_fn("==", |a: X509ContentType, b: X509ContentType| a == b)
        .register_fn("!=", |a: X509ContentType, b: X509ContentType| a != b);
    let contents = [
        "Unknown",
        "Cert",
        "SerializedCert",
        "Pkcs12",
        "SerializedStore",
        "Pkcs7",
        "Authenticode",
    ];
    for n in contents {
        e.register_fn(format!("X509ContentType__{n}"), move || X509ContentType(n));
    }
    // `Pfx` is an alias of `Pkcs12` (same value), which .NET prints as `Pkcs12`.
    e.register_fn("X509ContentType__Pfx", || X509ContentType("Pkcs12"));
    e.register_fn("X509Certificate2__GetCertContentType", |raw: Blob| {
        X509ContentType(if pfx::looks_like_pfx(&raw) {
            "Pkcs12"
        } else if CertData::parse(&raw).is_some() {
            "Cert"
        } else {
            "Unknown"
        })
    });
    let flags: [(&str, INT); 7] = [
        ("DefaultKeySet", 0),
        ("UserKeySet", 1),
        ("MachineKeySet", 2),
        ("Exportable", 4),
        ("UserProtected", 8),
        ("PersistKeySet", 16),
        ("EphemeralKeySet", 32),
    ];
    for (n, v) in flags {
        e.register_fn(format!("X509KeyStorageFlags__{n}"), move || v);
    }
}

pub(crate) fn register(e: &mut Engine) {
    register_certificate(e);
    register_helpers(e);
    rsa::register(e);
}

#[cfg(test)]
mod tests;
