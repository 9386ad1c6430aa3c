import APIMachinery

/// discovery.k8s.io/v1: EndpointSlice.
public enum DiscoveryV1 {
    public static let resources: [ResourceDefinition] = [
        .v1("discovery.k8s.io", "EndpointSlice", "endpointslices", columns: [.field("AddressType", ["addressType"]),
            PrinterColumn("Ports") { o in .string((o["ports"].array ?? []).compactMap { $0["port"].int.map(String.init) }.joined(separator: ",").isEmpty ? "<unset>" : (o["ports"].array ?? []).compactMap { $0["port"].int.map(String.init) }.joined(separator: ",")) },
            PrinterColumn("Endpoints") { o in .string((o["endpoints"].array ?? []).flatMap { ($0["addresses"].array ?? []).compactMap(\.string) }.joined(separator: ",").isEmpty ? "<unset>" : (o["endpoints"].array ?? []).flatMap { ($0["addresses"].array ?? []).compactMap(\.string) }.joined(separator: ",")) }, .age]),
    ]
}
