#!/usr/bin/env python3
"""Tokenizer parity fixture: >= 300 strings tokenized by Hugging Face `tokenizers` from all-MiniLM-L6-v2's
tokenizer.json (no truncation, no padding). Writes Tests/DistillTextTests/Fixtures/tokenizer_parity.json.

Usage: make_tokenizer_fixture.py MODEL_DIR   (needs `tokenizers`; `make fixtures` installs it into .cache/pip)
"""
import json
import os
import random
import sys

from tokenizers import Tokenizer

rng = random.Random(20261129)


def ip():
    return ".".join(str(rng.randint(0, 255)) for _ in range(4))


def hexid(n=12):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def uuid():
    return "-".join(hexid(n) for n in (8, 4, 4, 4, 12))


services = ["payments", "auth", "orders", "gateway", "kafka-broker", "redis-cache", "pg-primary", "nginx-ingress"]
paths = ["/var/log/syslog", "/api/v1/orders", "/home/app/.config/settings.json", "C:\\Program Files\\App\\bin\\app.exe",
         "/usr/lib/python3.11/site-packages/requests/adapters.py", "/dev/sda1", "s3://bucket/key/part-0001.parquet"]
templates = [
    lambda: f"Connection refused while connecting to {ip()}:{rng.randint(1, 65535)}",
    lambda: f"kubelet: Liveness probe failed for pod {rng.choice(services)}-{hexid(10)}-{hexid(5)}: HTTP probe failed with statuscode: {rng.choice([500, 502, 503])}",
    lambda: f'{ip()} - - [29/Nov/2026:01:{rng.randint(10, 59)}:{rng.randint(10, 59)} +0000] "GET {rng.choice(paths)}?id={rng.randint(1, 99999)} HTTP/1.1" {rng.choice([200, 404, 500])} {rng.randint(0, 99999)}',
    lambda: f"ERROR 1045 (28000): Access denied for user 'app'@'{ip()}' (using password: YES)",
    lambda: f'{{"level":"error","ts":"2026-11-29T01:02:{rng.randint(10, 59)}.{rng.randint(100, 999)}Z","msg":"request failed","trace_id":"{uuid()}","latency_ms":{rng.random() * 1000:.3f}}}',
    lambda: f'  at com.example.{rng.choice(["db", "net", "auth"])}.Client.connect(Client.java:{rng.randint(1, 999)})',
    lambda: f'File "{rng.choice(paths)}", line {rng.randint(1, 999)}, in send',
    lambda: f"Out of memory: Killed process {rng.randint(100, 99999)} (java) total-vm:{rng.randint(1000, 9999999)}kB, anon-rss:{rng.randint(1000, 999999)}kB",
    lambda: f"disk {rng.choice(paths)} usage {rng.randint(80, 100)}% (inode 0x{hexid(8)})",
    lambda: f"segfault at 0x{hexid(16)} ip 0x{hexid(16)} sp 0x{hexid(16)} error 4 in libc.so.6[7f{hexid(6)}+195000]",
    lambda: f"user={rng.choice(['alice', 'bob', 'zoë', 'jürgen'])} src={ip()} action=login result={rng.choice(['success', 'failure'])} session={uuid()}",
    lambda: f"Redis timeout after {rng.randint(100, 9000)}ms; retrying ({rng.randint(1, 5)}/5)… [{rng.choice(services)}]",
    lambda: f"[{rng.choice(['WARN', 'ERROR', 'INFO', 'DEBUG'])}] {rng.choice(services)}: TLS handshake error from {ip()}:{rng.randint(1024, 65535)}: remote error: tls: bad certificate",
    lambda: f"Nov 29 01:{rng.randint(10, 59)}:{rng.randint(10, 59)} host-{rng.randint(1, 99)} sshd[{rng.randint(100, 9999)}]: Failed password for invalid user admin from {ip()} port {rng.randint(1024, 65535)} ssh2",
    lambda: f"IPv6 peer [2001:db8::{hexid(4)}:{hexid(4)}]:443 reset connection, sha256={hexid(64)}",
]

strings = [templates[i % len(templates)]() for i in range(200)]
strings += [
    "Café déjà vu — naïve résumé", "ÀÉÎÕÜ àéîõü Ñandú", "Straße GROSS ß", "İstanbul ılık", "ǅemal ǈ ǋ",
    "Ελληνικά κείμενα ΣΊΣΥΦΟΣ", "Русский текст: ошибка подключения", "עברית שגיאה", "العربية خطأ في الاتصال",
    "ภาษาไทย ข้อผิดพลาด", "한국어 연결 오류", "日本語のログ：接続がタイムアウトしました", "日志服务 连接 超时",
    "中文標點，「引號」與《書名號》。", "漢字𠀀𠀁 extension B", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３", "ﬁ ﬂ ligatures ﬀ",
    "e\u0301 combining acute, a\u0308 diaeresis, n\u0303", "Z\u0351\u0352\u0353algo̸ text", "math ∑∫√∞ ≤ ≥ ≠ ± × ÷",
    "currency € £ ¥ ₹ ₿ $100", "quotes “double” ‘single’ «guillemets» „low“", "dashes – — ‒ ― and ellipsis …",
    "emoji 🔥 fire 🤖 robot 🥰 smile 🥲 tear 🫠 melt 🧑‍💻 coder 👍🏽 thumbs", "flags 🇩🇪🇯🇵 and keycap 1️⃣",
    "control\x00chars\x01here\x07bell\x1b[31mred\x1b[0m\x7fdel", "zero\u200bwidth\u200dspace\ufeffbom\u2060join",
    "tabs\tand\nnewlines\r\nand\u000bvertical\u000cfeed", "nbsp\u00a0thin\u2009ideographic\u3000space\u2028line\u2029para",
    "soft\u00adhyphen and \u0085next line", "private use \ue000\uf8ff and replacement \ufffd char",
    "a" * 99, "b" * 100, "c" * 101, "supercalifragilisticexpialidocious" * 4, "x" * 250 + " short",
    "Donaudampfschifffahrtsgesellschaftskapitänsmützenhalterung", "pneumonoultramicroscopicsilicovolcanoconiosis",
    "", " ", "   \t  ", "a", "!", "...", "[CLS] [SEP] [PAD] [UNK] [MASK]", "##suffix ##", "@#$%^&*()_+-=[]{}|;':\",./<>?`~",
    "snake_case_identifier camelCaseIdentifier kebab-case-id PascalCase", "x86_64 arm64 i386 amd64",
    "1.2.3 v2.0.0-rc1 10.0.0.1/24 3.14159 1e-5 -42 +7 0x1F 0b1010 0o777",
    "https://example.com/path?q=1&r=%20#frag mailto:user@example.com", "C:\\Windows\\System32\\drivers\\etc\\hosts",
    "SELECT * FROM users WHERE id = 42; DROP TABLE logs;--", "<html><body class=\"x\">Hi</body></html>",
    "2026-11-29T01:02:03.456+01:00 ISO time", "Mon, 29 Nov 2026 01:02:03 GMT", "1732842123.123456 epoch",
    "ΑΒΓ αβγ ÆØÅ æøå Œ œ Ł ł Đ đ", "Việt Nam tiếng Việt có dấu", "Türkçe ŞşĞğÇç", "Polski: zażółć gęślą jaźń",
    "Čeština: příliš žluťoučký kůň", "Română: ăâîșț ĂÂÎȘȚ", "Íslenska: þ ð Þ Ð", "Esperanto: ĉĝĥĵŝŭ",
    "hangul jamo ᄀᄁᄂ and compatibility ㄱㄴㄷ", "katakana ｶﾀｶﾅ half-width", "hiragana ひらがな カタカナ",
    "devanagari हिन्दी त्रुटि", "tamil தமிழ் பிழை", "mongolian ᠮᠣᠩᠭᠣᠯ", "ethiopic ግዕዝ", "cherokee ᏣᎳᎩ",
    "superscripts x² y³ H₂O", "roman numerals Ⅰ Ⅱ Ⅻ ⅰ ⅱ", "circled ① ② ⑳ Ⓐ ⓐ", "arrows ← → ↑ ↓ ⇒ ⇔",
    "box drawing ┌─┐│└┘ ░▒▓█", "braille ⠁⠃⠉", "musical 𝄞 𝄢", "math bold 𝐀𝐁𝐂 𝒜ℬ𝒞 𝔸𝔹ℂ",
    "ancient 𐎀𐎁 ugaritic and 𓀀 hieroglyph", "emoji modifiers 👩🏻‍🔬 👨🏿‍🚀 🏳️‍🌈", "newer emoji 🪿 🫎 🪼 🫨",
    "x[CLS]y [SEP][SEP]z [MASK]ed", "[CLS]\u0301 accent after a special token", "[SEP]\u200d joiner", "[[CLS]]",
    "a\U0002b820b a\U0002b920b a\U0002ceafb CJK extension edges", "cafe\u0301 vs café", "Ǆ ǅ ǆ ΐ ẞ ﬃ",
]
while len(strings) < 330:
    strings.append(" ".join(templates[rng.randrange(len(templates))]() for _ in range(2)))

tok = Tokenizer.from_file(os.path.join(sys.argv[1], "tokenizer.json"))
tok.no_truncation()
tok.no_padding()
# The same vocabulary with a cased normalizer (no lowercasing, no accent stripping), to cover that path.
spec = json.load(open(os.path.join(sys.argv[1], "tokenizer.json")))
spec["normalizer"]["lowercase"] = False
spec["normalizer"]["strip_accents"] = False
cased = Tokenizer.from_str(json.dumps(spec))
cased.no_truncation()
cased.no_padding()
cases = [{"text": s, "ids": tok.encode(s).ids, "cased_ids": cased.encode(s).ids} for s in strings]
out = os.path.join(os.path.dirname(__file__), "..", "Tests", "DistillTextTests", "Fixtures", "tokenizer_parity.json")
with open(out, "w", encoding="utf-8") as fh:
    json.dump({"generator": "scripts/make_tokenizer_fixture.py", "tokenizer": "all-MiniLM-L6-v2 tokenizer.json",
               "cases": cases}, fh, ensure_ascii=True, indent=0)
print(f"wrote {len(cases)} cases to {os.path.normpath(out)}")
