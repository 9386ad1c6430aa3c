/// FNV-1a, 32 bits: the short, stable hash upstream uses for pod-template-hash, and Cubby for names
/// that must stay unique when cut (bridges, nftables chains).
public enum FNV1a {
    public static func hash32(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var hash: UInt32 = 2166136261
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 16777619 }
        return hash
    }
}
