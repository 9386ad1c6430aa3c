/// Stable hex digits from a seed (FNV-1a, then a linear congruential stream): IDs and hashes
/// that stay the same across restarts, unlike Hasher's.
func stableHex(_ seed: String, _ length: Int) -> String {
    var value: UInt64 = 0xcbf29ce484222325
    for byte in seed.utf8 { value = (value ^ UInt64(byte)) &* 0x100000001b3 }
    var out = ""
    while out.count < length {
        out += String(value, radix: 16)
        value = value &* 6364136223846793005 &+ 1442695040888963407
    }
    return String(out.prefix(length))
}
