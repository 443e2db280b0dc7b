//! A growable bitset over agent slots: the router's indexes (agents by language and skill,
//! available agents) are sets of slots, and the agents that may take a call are found by
//! AND/OR over 64 slots at a time (10,000 agents: 157 words).

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Bits {
    words: Vec<u64>,
}

impl Bits {
    pub fn set(&mut self, i: u32, on: bool) {
        let (w, b) = (i as usize / 64, i % 64);
        if w >= self.words.len() {
            if !on {
                return;
            }
            self.words.resize(w + 1, 0);
        }
        if on {
            self.words[w] |= 1 << b;
        } else {
            self.words[w] &= !(1 << b);
        }
    }

    pub fn get(&self, i: u32) -> bool {
        self.words.get(i as usize / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Word `i` (0 past the end).
    pub fn word(&self, i: usize) -> u64 {
        self.words.get(i).copied().unwrap_or(0)
    }

    pub fn len_words(&self) -> usize {
        self.words.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| ones(w, i))
    }
}

/// The slots of the set bits of word `w`, the `i`-th word.
pub(crate) fn ones(mut w: u64, i: usize) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        if w == 0 {
            return None;
        }
        let b = w.trailing_zeros();
        w &= w - 1;
        Some(i as u32 * 64 + b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_iterate() {
        let mut b = Bits::default();
        for i in [0, 3, 63, 64, 200] {
            b.set(i, true);
        }
        b.set(3, false);
        b.set(10_000, false); // clearing past the end allocates nothing
        assert_eq!(b.len_words(), 4);
        assert!(b.get(63) && b.get(64) && !b.get(3) && !b.get(9_999));
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![0, 63, 64, 200]);
        assert_eq!(b.iter().count(), 4);
    }
}
