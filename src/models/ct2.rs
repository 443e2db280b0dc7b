//! Reading CTranslate2 `model.bin` files (binary version 6): named tensors and scalars.

use std::collections::BTreeMap;

use super::ModelError;

/// Element type of a CT2 variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl DType {
    fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => DType::F32,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::F16,
            5 => DType::BF16,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::F32 | DType::I32 => 4,
        }
    }
}

/// One named variable: shape (row-major), type and raw little-endian bytes.
#[derive(Debug, Clone)]
pub struct Variable {
    pub dims: Vec<usize>,
    pub dtype: DType,
    pub data: Vec<u8>,
}

impl Variable {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.dims.iter().product::<usize>().max(1)
    }

    /// Whether the variable holds no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The values as f32, whatever the stored float or integer type.
    pub fn to_f32(&self) -> Vec<f32> {
        let b = &self.data;
        match self.dtype {
            DType::F32 => b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            DType::F16 => b.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            DType::BF16 => b.chunks_exact(2).map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            DType::I8 => b.iter().map(|&x| x as i8 as f32).collect(),
            DType::I16 => b.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]]) as f32).collect(),
            DType::I32 => b.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32).collect(),
        }
    }

    /// A scalar's value as an integer.
    pub fn scalar_i64(&self) -> Option<i64> {
        (self.len() == 1).then(|| self.to_f32()[0] as i64)
    }
}

/// A parsed CT2 model: spec name, revision, variables by name (aliases resolved).
#[derive(Debug)]
pub struct Ct2Model {
    pub spec: String,
    pub revision: u32,
    pub variables: BTreeMap<String, Variable>,
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end =
            self.pos.checked_add(n).filter(|&e| e <= self.b.len()).ok_or_else(|| {
                ModelError::Format(format!("CT2 file truncated at byte {} (wanted {n} more)", self.pos))
            })?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ModelError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ModelError> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn string(&mut self) -> Result<String, ModelError> {
        let n = self.u16()? as usize;
        let s = self.take(n)?;
        let s = s.strip_suffix(&[0]).unwrap_or(s);
        String::from_utf8(s.to_vec()).map_err(|_| ModelError::Format("CT2 name is not UTF-8".into()))
    }
}

impl Ct2Model {
    /// Parse a whole `model.bin` held in memory.
    pub fn parse(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut c = Cursor { b: bytes, pos: 0 };
        let version = c.u32()?;
        if !(5..=6).contains(&version) {
            return Err(ModelError::Format(format!("CT2 binary version {version} (expected 6)")));
        }
        let spec = c.string()?;
        let revision = c.u32()?;
        let count = c.u32()? as usize;
        if count > 100_000 {
            return Err(ModelError::Format(format!("CT2 variable count {count} is implausible")));
        }
        let mut variables = BTreeMap::new();
        for _ in 0..count {
            let name = c.string()?;
            let ndim = c.u8()? as usize;
            let mut dims = Vec::with_capacity(ndim);
            for _ in 0..ndim {
                dims.push(c.u32()? as usize);
            }
            let code = c.u8()?;
            let dtype = DType::from_code(code)
                .ok_or_else(|| ModelError::Format(format!("CT2 variable {name}: unknown dtype {code}")))?;
            let nbytes = c.u32()? as usize;
            let expected = dims.iter().product::<usize>().max(1) * dtype.size();
            if nbytes != expected {
                return Err(ModelError::Format(format!(
                    "CT2 variable {name}: {nbytes} bytes for shape {dims:?} {dtype:?} (expected {expected})"
                )));
            }
            let data = c.take(nbytes)?.to_vec();
            variables.insert(name, Variable { dims, dtype, data });
        }
        if c.pos < bytes.len() {
            let aliases = c.u32()?;
            for _ in 0..aliases {
                let alias = c.string()?;
                let target = c.string()?;
                if let Some(v) = variables.get(&target).cloned() {
                    variables.insert(alias, v);
                }
            }
        }
        Ok(Self { spec, revision, variables })
    }

    /// A required variable, or a format error naming it.
    pub fn get(&self, name: &str) -> Result<&Variable, ModelError> {
        self.variables.get(name).ok_or_else(|| ModelError::Format(format!("CT2 model has no variable {name}")))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Serialise variables in CT2 layout (test helper, also used by the converter's tests).
    pub fn write_ct2(vars: &[(&str, Vec<usize>, DType, Vec<u8>)], aliases: &[(&str, &str)]) -> Vec<u8> {
        fn string(out: &mut Vec<u8>, s: &str) {
            out.extend(((s.len() + 1) as u16).to_le_bytes());
            out.extend(s.as_bytes());
            out.push(0);
        }
        let mut out = Vec::new();
        out.extend(6u32.to_le_bytes());
        string(&mut out, "WhisperSpec");
        out.extend(3u32.to_le_bytes());
        out.extend((vars.len() as u32).to_le_bytes());
        for (name, dims, dtype, data) in vars {
            string(&mut out, name);
            out.push(dims.len() as u8);
            for d in dims {
                out.extend((*d as u32).to_le_bytes());
            }
            out.push(match dtype {
                DType::F32 => 0,
                DType::I8 => 1,
                DType::I16 => 2,
                DType::I32 => 3,
                DType::F16 => 4,
                DType::BF16 => 5,
            });
            out.extend((data.len() as u32).to_le_bytes());
            out.extend(data);
        }
        out.extend((aliases.len() as u32).to_le_bytes());
        for (a, t) in aliases {
            string(&mut out, a);
            string(&mut out, t);
        }
        out
    }

    #[test]
    fn parses_variables_scalars_and_aliases() {
        let f16s: Vec<u8> =
            [1.0f32, -2.0, 0.5, 3.0].iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()).collect();
        let bytes = write_ct2(
            &[
                ("decoder/embeddings/weight", vec![2, 2], DType::F16, f16s),
                ("encoder/num_heads", vec![], DType::I16, 6i16.to_le_bytes().to_vec()),
            ],
            &[("decoder/projection/weight", "decoder/embeddings/weight")],
        );
        let m = Ct2Model::parse(&bytes).unwrap();
        assert_eq!(m.spec, "WhisperSpec");
        assert_eq!(m.revision, 3);
        assert_eq!(m.get("decoder/embeddings/weight").unwrap().to_f32(), vec![1.0, -2.0, 0.5, 3.0]);
        assert_eq!(m.get("decoder/projection/weight").unwrap().dims, vec![2, 2]);
        assert_eq!(m.get("encoder/num_heads").unwrap().scalar_i64(), Some(6));
    }

    #[test]
    fn truncation_and_bad_sizes_are_errors_not_panics() {
        let bytes = write_ct2(&[("x", vec![4], DType::F32, vec![0; 16])], &[]);
        for cut in [0, 3, 10, 20, bytes.len() - 5] {
            assert!(Ct2Model::parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let bad = write_ct2(&[("x", vec![4], DType::F32, vec![0; 12])], &[]);
        let err = Ct2Model::parse(&bad).unwrap_err().to_string();
        assert!(err.contains("expected 16"), "{err}");
    }
}
