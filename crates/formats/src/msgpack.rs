//! The part of MessagePack that spaCy's `DocBin` files use, written and read.
//!
//! Values are written as Python's `msgpack` package packs them with
//! `use_bin_type=True` (what spaCy's `srsly.msgpack_dumps` does): integers,
//! strings, byte strings, arrays and maps in their smallest form, floats as
//! 64-bit. Reading takes any well-formed MessagePack (extension values are
//! kept as bytes), borrowing strings and byte strings from the input, and
//! refuses truncated input, trailing bytes, invalid UTF-8 and nesting deeper
//! than [`MAX_DEPTH`], with the byte offset of the problem.

use std::io::{self, Write};

/// How deeply arrays and maps may nest in what [`decode`] reads.
pub(crate) const MAX_DEPTH: usize = 64;

/// A MessagePack value, its strings and bytes borrowed from the input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Nil,
    Bool(bool),
    /// A non-negative integer.
    UInt(u64),
    /// A negative integer.
    Int(i64),
    Float(f64),
    Str(&'a str),
    Bin(&'a [u8]),
    Array(Vec<Value<'a>>),
    Map(Vec<(Value<'a>, Value<'a>)>),
    /// An extension value: its type and bytes.
    Ext(i8, &'a [u8]),
}

impl<'a> Value<'a> {
    /// What kind of value this is, for messages ("a string", "a map", …).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "a boolean",
            Value::UInt(_) | Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::Bin(_) => "bytes",
            Value::Array(_) => "an array",
            Value::Map(_) => "a map",
            Value::Ext(..) => "an extension value",
        }
    }

    /// The value of `key` in a map with string keys.
    pub(crate) fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Value::Str(s) if *s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A number as a float (integers included), as Python reads it.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(f) => Some(f),
            Value::UInt(u) => Some(u as f64),
            Value::Int(i) => Some(i as f64),
            Value::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }
}

/// Reads one value that takes up all of `bytes`.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value<'_>, String> {
    let mut reader = Reader { bytes, at: 0 };
    let value = reader.value(0)?;
    if reader.at != bytes.len() {
        return Err(format!(
            "{} bytes after the end of the value, at byte {}",
            bytes.len() - reader.at,
            reader.at
        ));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| {
                format!(
                    "ends early: {n} bytes wanted at byte {}, {} left",
                    self.at,
                    self.bytes.len() - self.at
                )
            })?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn uint(&mut self, size: usize) -> Result<u64, String> {
        let bytes = self.take(size)?;
        Ok(bytes.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)))
    }

    fn len(&mut self, size: usize) -> Result<usize, String> {
        Ok(self.uint(size)? as usize)
    }

    fn str(&mut self, len: usize) -> Result<Value<'a>, String> {
        let at = self.at;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes)
            .map(Value::Str)
            .map_err(|err| format!("a string at byte {at} is not UTF-8: {err}"))
    }

    fn array(&mut self, len: usize, depth: usize) -> Result<Value<'a>, String> {
        // Every element takes at least a byte: a length beyond what is
        // left is refused before anything is allocated for it.
        self.room_for(len)?;
        let mut items = Vec::with_capacity(len);
        for _ in 0..len {
            items.push(self.value(depth + 1)?);
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, len: usize, depth: usize) -> Result<Value<'a>, String> {
        self.room_for(len.saturating_mul(2))?;
        let mut entries = Vec::with_capacity(len);
        for _ in 0..len {
            let key = self.value(depth + 1)?;
            let value = self.value(depth + 1)?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }

    fn room_for(&self, values: usize) -> Result<(), String> {
        let left = self.bytes.len() - self.at;
        if values > left {
            return Err(format!(
                "ends early: {values} values announced at byte {}, {left} bytes left",
                self.at
            ));
        }
        Ok(())
    }

    fn ext(&mut self, len: usize) -> Result<Value<'a>, String> {
        let kind = self.byte()? as i8;
        Ok(Value::Ext(kind, self.take(len)?))
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "values nest deeper than {MAX_DEPTH} levels at byte {}",
                self.at
            ));
        }
        let at = self.at;
        let marker = self.byte()?;
        Ok(match marker {
            0x00..=0x7f => Value::UInt(u64::from(marker)),
            0x80..=0x8f => self.map(usize::from(marker & 0x0f), depth)?,
            0x90..=0x9f => self.array(usize::from(marker & 0x0f), depth)?,
            0xa0..=0xbf => self.str(usize::from(marker & 0x1f))?,
            0xc0 => Value::Nil,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4 => {
                let len = self.len(1)?;
                Value::Bin(self.take(len)?)
            }
            0xc5 => {
                let len = self.len(2)?;
                Value::Bin(self.take(len)?)
            }
            0xc6 => {
                let len = self.len(4)?;
                Value::Bin(self.take(len)?)
            }
            0xc7 => {
                let len = self.len(1)?;
                self.ext(len)?
            }
            0xc8 => {
                let len = self.len(2)?;
                self.ext(len)?
            }
            0xc9 => {
                let len = self.len(4)?;
                self.ext(len)?
            }
            0xca => Value::Float(f64::from(f32::from_bits(self.uint(4)? as u32))),
            0xcb => Value::Float(f64::from_bits(self.uint(8)?)),
            0xcc => Value::UInt(self.uint(1)?),
            0xcd => Value::UInt(self.uint(2)?),
            0xce => Value::UInt(self.uint(4)?),
            0xcf => Value::UInt(self.uint(8)?),
            0xd0 => signed(self.uint(1)? as u8 as i8 as i64),
            0xd1 => signed(self.uint(2)? as u16 as i16 as i64),
            0xd2 => signed(self.uint(4)? as u32 as i32 as i64),
            0xd3 => signed(self.uint(8)? as i64),
            0xd4 => self.ext(1)?,
            0xd5 => self.ext(2)?,
            0xd6 => self.ext(4)?,
            0xd7 => self.ext(8)?,
            0xd8 => self.ext(16)?,
            0xd9 => {
                let len = self.len(1)?;
                self.str(len)?
            }
            0xda => {
                let len = self.len(2)?;
                self.str(len)?
            }
            0xdb => {
                let len = self.len(4)?;
                self.str(len)?
            }
            0xdc => {
                let len = self.len(2)?;
                self.array(len, depth)?
            }
            0xdd => {
                let len = self.len(4)?;
                self.array(len, depth)?
            }
            0xde => {
                let len = self.len(2)?;
                self.map(len, depth)?
            }
            0xdf => {
                let len = self.len(4)?;
                self.map(len, depth)?
            }
            0xe0..=0xff => Value::Int(i64::from(marker as i8)),
            0xc1 => {
                return Err(format!(
                    "byte 0xc1 at byte {at} is never used in MessagePack"
                ))
            }
        })
    }
}

/// A signed integer read: non-negative ones are [`Value::UInt`] as when
/// they are written unsigned, so readers need not look at both.
fn signed(n: i64) -> Value<'static> {
    if n >= 0 {
        Value::UInt(n as u64)
    } else {
        Value::Int(n)
    }
}

/// Writes a non-negative integer in its smallest form.
pub(crate) fn write_uint<W: Write>(out: &mut W, n: u64) -> io::Result<()> {
    if n <= 0x7f {
        out.write_all(&[n as u8])
    } else if n <= 0xff {
        out.write_all(&[0xcc, n as u8])
    } else if n <= 0xffff {
        out.write_all(&[0xcd])?;
        out.write_all(&(n as u16).to_be_bytes())
    } else if n <= 0xffff_ffff {
        out.write_all(&[0xce])?;
        out.write_all(&(n as u32).to_be_bytes())
    } else {
        out.write_all(&[0xcf])?;
        out.write_all(&n.to_be_bytes())
    }
}

pub(crate) fn write_f64<W: Write>(out: &mut W, f: f64) -> io::Result<()> {
    out.write_all(&[0xcb])?;
    out.write_all(&f.to_bits().to_be_bytes())
}

pub(crate) fn write_bool<W: Write>(out: &mut W, b: bool) -> io::Result<()> {
    out.write_all(&[if b { 0xc3 } else { 0xc2 }])
}

/// A length that MessagePack can announce (at most 2³² − 1).
fn len32(len: usize) -> io::Result<u32> {
    u32::try_from(len).map_err(|_| io::Error::other("over 4 GiB in one MessagePack value"))
}

pub(crate) fn write_str<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    let len = len32(s.len())?;
    if len < 32 {
        out.write_all(&[0xa0 | len as u8])?;
    } else if len <= 0xff {
        out.write_all(&[0xd9, len as u8])?;
    } else if len <= 0xffff {
        out.write_all(&[0xda])?;
        out.write_all(&(len as u16).to_be_bytes())?;
    } else {
        out.write_all(&[0xdb])?;
        out.write_all(&len.to_be_bytes())?;
    }
    out.write_all(s.as_bytes())
}

/// Writes the head of a byte string of `len` bytes; the bytes follow.
pub(crate) fn write_bin_head<W: Write>(out: &mut W, len: usize) -> io::Result<()> {
    let len = len32(len)?;
    if len <= 0xff {
        out.write_all(&[0xc4, len as u8])
    } else if len <= 0xffff {
        out.write_all(&[0xc5])?;
        out.write_all(&(len as u16).to_be_bytes())
    } else {
        out.write_all(&[0xc6])?;
        out.write_all(&len.to_be_bytes())
    }
}

pub(crate) fn write_bin<W: Write>(out: &mut W, bytes: &[u8]) -> io::Result<()> {
    write_bin_head(out, bytes.len())?;
    out.write_all(bytes)
}

/// Writes the head of an array of `len` values; the values follow.
pub(crate) fn write_array_head<W: Write>(out: &mut W, len: usize) -> io::Result<()> {
    let len = len32(len)?;
    if len < 16 {
        out.write_all(&[0x90 | len as u8])
    } else if len <= 0xffff {
        out.write_all(&[0xdc])?;
        out.write_all(&(len as u16).to_be_bytes())
    } else {
        out.write_all(&[0xdd])?;
        out.write_all(&len.to_be_bytes())
    }
}

/// Writes the head of a map of `len` entries; keys and values follow.
pub(crate) fn write_map_head<W: Write>(out: &mut W, len: usize) -> io::Result<()> {
    let len = len32(len)?;
    if len < 16 {
        out.write_all(&[0x80 | len as u8])
    } else if len <= 0xffff {
        out.write_all(&[0xde])?;
        out.write_all(&(len as u16).to_be_bytes())
    } else {
        out.write_all(&[0xdf])?;
        out.write_all(&len.to_be_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_in_their_smallest_forms() {
        let mut out = Vec::new();
        write_map_head(&mut out, 2).unwrap();
        write_str(&mut out, "n").unwrap();
        write_array_head(&mut out, 6).unwrap();
        for n in [5, 200, 70_000, 1 << 40] {
            write_uint(&mut out, n).unwrap();
        }
        write_f64(&mut out, 0.25).unwrap();
        write_bool(&mut out, true).unwrap();
        write_str(&mut out, &"é".repeat(40)).unwrap();
        write_bin(&mut out, &[1, 2, 3]).unwrap();
        // As Python's msgpack packs {"n": [5, 200, 70000, 2**40, 0.25, True], …}.
        assert_eq!(
            &out[..17],
            &[0x82, 0xa1, b'n', 0x96, 5, 0xcc, 200, 0xce, 0, 1, 0x11, 0x70, 0xcf, 0, 0, 1, 0]
        );
        let value = decode(&out).unwrap();
        let Value::Map(entries) = &value else {
            panic!("{value:?}")
        };
        assert_eq!(
            entries[0].1,
            Value::Array(vec![
                Value::UInt(5),
                Value::UInt(200),
                Value::UInt(70_000),
                Value::UInt(1 << 40),
                Value::Float(0.25),
                Value::Bool(true),
            ])
        );
        assert_eq!(entries[1].0, Value::Str(&"é".repeat(40)));
        assert_eq!(entries[1].1, Value::Bin(&[1, 2, 3]));
        assert_eq!(value.get("n").map(Value::kind), Some("an array"));
        // Long arrays and maps use their 16-bit heads.
        let mut long = Vec::new();
        write_array_head(&mut long, 20).unwrap();
        for _ in 0..20 {
            write_map_head(&mut long, 0).unwrap();
        }
        assert_eq!(&long[..3], &[0xdc, 0, 20]);
        assert!(matches!(decode(&long), Ok(Value::Array(items)) if items.len() == 20));
    }

    #[test]
    fn broken_input_is_an_error_not_a_panic() {
        assert!(decode(&[]).unwrap_err().contains("ends early"));
        assert!(decode(&[0x92, 1]).unwrap_err().contains("ends early"));
        // A huge announced length is refused before allocating.
        assert!(decode(&[0xdd, 0xff, 0xff, 0xff, 0xff])
            .unwrap_err()
            .contains("values announced"));
        assert!(decode(&[0xc6, 0xff, 0xff, 0xff, 0xff, 0])
            .unwrap_err()
            .contains("ends early"));
        assert!(decode(&[0xa2, 0xff, 0xfe]).unwrap_err().contains("UTF-8"));
        assert!(decode(&[1, 2]).unwrap_err().contains("after the end"));
        assert!(decode(&[0xc1]).unwrap_err().contains("never used"));
        let deep = vec![0x91; MAX_DEPTH + 2];
        assert!(decode(&deep).unwrap_err().contains("deeper"));
        // Negative and signed integers.
        assert_eq!(decode(&[0xff]).unwrap(), Value::Int(-1));
        assert_eq!(decode(&[0xd0, 0x80]).unwrap(), Value::Int(-128));
        assert_eq!(decode(&[0xd1, 0, 7]).unwrap(), Value::UInt(7));
    }
}
