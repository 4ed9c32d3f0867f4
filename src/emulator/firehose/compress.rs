//! The compression formats of S3 destinations, producing the exact bytes AWS's readers expect:
//!
//! - `GZIP`: one gzip member (RFC 1952), extension `.gz`.
//! - `ZIP`: an archive with one deflated entry named like the object without `.zip`,
//!   extension `.zip`.
//! - `Snappy`: the Snappy *framing* format (stream identifier, CRC-32C checked chunks), which is
//!   what Firehose writes for `Snappy` and what `python-snappy`'s stream decompressor and
//!   `snap::read::FrameDecoder` read; extension `.snappy`.
//! - `HADOOP_SNAPPY`: Hadoop's block format (`BlockCompressorStream`: per block the uncompressed
//!   length, then each compressed chunk's length, big-endian 32-bit, then the raw Snappy
//!   chunk), which Hadoop, Spark and Athena read; also `.snappy`, as Hadoop names such files.
//! - `UNCOMPRESSED`: the bytes as they are, no extension.
//!
//! Every format is deterministic (no wall-clock time in headers), so re-delivering a batch after
//! a crash writes the same bytes.

use std::io::Write;

/// Largest uncompressed block of the Hadoop Snappy format (Hadoop's default buffer size).
const HADOOP_BLOCK: usize = 256 * 1024;

/// The file extension AWS appends for `format`.
pub fn extension(format: &str) -> &'static str {
    match format {
        "GZIP" => ".gz",
        "ZIP" => ".zip",
        "Snappy" | "HADOOP_SNAPPY" => ".snappy",
        _ => "",
    }
}

/// The HTTP content type of an object in `format`.
pub fn content_type(format: &str) -> &'static str {
    match format {
        "GZIP" => "application/gzip",
        "ZIP" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// `parts` concatenated and compressed as `format`; `entry` names the ZIP entry.
pub fn compress(format: &str, parts: &[bytes::Bytes], entry: &str) -> std::io::Result<Vec<u8>> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    match format {
        "GZIP" => {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(total / 2 + 64),
                flate2::Compression::default(),
            );
            for p in parts {
                enc.write_all(p)?;
            }
            enc.finish()
        }
        "ZIP" => {
            let mut zip =
                zip::ZipWriter::new(std::io::Cursor::new(Vec::with_capacity(total / 2 + 256)));
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .large_file(total >= u32::MAX as usize);
            zip.start_file(entry, options)
                .map_err(std::io::Error::other)?;
            for p in parts {
                zip.write_all(p)?;
            }
            Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
        }
        "Snappy" => {
            let mut enc = snap::write::FrameEncoder::new(Vec::with_capacity(total / 2 + 64));
            for p in parts {
                enc.write_all(p)?;
            }
            enc.into_inner()
                .map_err(|e| std::io::Error::other(e.to_string()))
        }
        "HADOOP_SNAPPY" => {
            let joined = concat(parts, total);
            let mut out = Vec::with_capacity(total / 2 + 64);
            let mut encoder = snap::raw::Encoder::new();
            for block in joined.chunks(HADOOP_BLOCK) {
                let compressed = encoder
                    .compress_vec(block)
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                out.extend_from_slice(&(block.len() as u32).to_be_bytes());
                out.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
                out.extend_from_slice(&compressed);
            }
            Ok(out)
        }
        _ => Ok(concat(parts, total)),
    }
}

fn concat(parts: &[bytes::Bytes], total: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(total);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn parts() -> Vec<bytes::Bytes> {
        vec![
            bytes::Bytes::from_static(b"first record"),
            bytes::Bytes::from(vec![7u8; 300_000]),
            bytes::Bytes::from_static(b"last"),
        ]
    }

    fn joined() -> Vec<u8> {
        parts().iter().flat_map(|p| p.to_vec()).collect()
    }

    #[test]
    fn every_format_round_trips_to_the_concatenated_records() {
        let expected = joined();
        let plain = compress("UNCOMPRESSED", &parts(), "x").unwrap();
        assert_eq!(plain, expected);

        let gz = compress("GZIP", &parts(), "x").unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, expected);

        let zipped = compress("ZIP", &parts(), "entry-name").unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut file = archive.by_index(0).unwrap();
        assert_eq!(file.name().unwrap(), "entry-name");
        let mut out = Vec::new();
        file.read_to_end(&mut out).unwrap();
        assert_eq!(out, expected);

        let framed = compress("Snappy", &parts(), "x").unwrap();
        assert_eq!(&framed[..10], b"\xff\x06\x00\x00sNaPpY");
        let mut out = Vec::new();
        snap::read::FrameDecoder::new(&framed[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, expected);

        let hadoop = compress("HADOOP_SNAPPY", &parts(), "x").unwrap();
        let mut out = Vec::new();
        let mut rest = &hadoop[..];
        while !rest.is_empty() {
            let raw_len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            let len = u32::from_be_bytes(rest[4..8].try_into().unwrap()) as usize;
            let block = snap::raw::Decoder::new()
                .decompress_vec(&rest[8..8 + len])
                .unwrap();
            assert_eq!(block.len(), raw_len);
            out.extend_from_slice(&block);
            rest = &rest[8 + len..];
        }
        assert_eq!(out, expected);
    }

    #[test]
    fn output_is_deterministic() {
        for format in ["GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"] {
            assert_eq!(
                compress(format, &parts(), "e").unwrap(),
                compress(format, &parts(), "e").unwrap(),
                "{format}"
            );
        }
    }
}
