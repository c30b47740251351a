//! Synthetic dossiers for tests and benchmarks (no real personal data):
//! about the size of a real one (~1.2 KB as a saved Automerge document).

use serde_json::{Value, json};

/// A synthetic dossier number `n`.
pub fn dossier(n: u64) -> Value {
    let names = [
        "Nguyễn Văn An",
        "Trần Thị Bình",
        "Lê Hoàng Cường",
        "Phạm Thị Dung",
        "Hoàng Minh Đức",
    ];
    let streets = [
        "Đường Lê Lợi",
        "Đường Trần Hưng Đạo",
        "Ngõ 12 Phố Huế",
        "Thôn Đông",
        "Ấp Bình Minh",
    ];
    json!({
        "tracking_code": format!("79001-2026-{n:07}"),
        "procedure": "dang-ky-khai-sinh",
        "status": "submitted",
        "submitted_at": format!("2026-11-{:02}T{:02}:{:02}:00+07:00", 1 + n % 28, 7 + n % 10, n % 60),
        "channel": "kiosk",
        "applicant": {
            "full_name": names[(n % 5) as usize],
            "id_number": format!("0790{:08}", n * 7919 % 100_000_000),
            "date_of_birth": format!("{:02}/{:02}/{}", 1 + n % 28, 1 + n % 12, 1960 + n % 45),
            "sex": if n.is_multiple_of(2) { "Nam" } else { "Nữ" },
            "phone": format!("09{:08}", n * 104_729 % 100_000_000),
            "address": format!("Số {} {}, Phường {}, Thành phố Hồ Chí Minh", 1 + n % 300, streets[(n % 5) as usize], 1 + n % 20),
        },
        "subject": {
            "full_name": format!("{} (con)", names[((n + 2) % 5) as usize]),
            "date_of_birth": format!("{:02}/{:02}/2026", 1 + n % 28, 1 + n % 10),
            "place_of_birth": "Bệnh viện Hùng Vương",
            "father": names[((n + 1) % 5) as usize],
            "mother": names[((n + 3) % 5) as usize],
        },
        "fields": {
            "ethnicity": "Kinh",
            "nationality": "Việt Nam",
            "relationship": "cha",
            "copies": 1 + n % 3,
            "notes": format!("Hồ sơ số {n}: đã kiểm tra giấy chứng sinh, bản sao căn cước của cha và mẹ."),
        },
        "attachments": [
            {"name": "giay-chung-sinh.jpg", "sha256": format!("{:064x}", n as u128 * 0x9e37_79b9_7f4a_7c15), "bytes": 182_000 + n % 1000},
            {"name": "cccd-cha.jpg", "sha256": format!("{:064x}", (n as u128 + 1) * 0x85eb_ca6b), "bytes": 95_000 + n % 500},
        ],
        "fee_vnd": 0,
        "consent": {"given": true, "at": "2026-11-20T08:15:00+07:00", "text_version": "v1"},
    })
}

/// A synthetic page photo: a JPEG header and `len` bytes that do not compress.
pub fn page(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0];
    while out.len() < len {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push((state >> 33) as u8);
    }
    out.truncate(len);
    out
}
