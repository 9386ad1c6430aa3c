import APIMachinery
import Foundation
import Resources

extension Registry {
    /// pods/binding: assigns a pod to a node in one write (spec.nodeName and the PodScheduled
    /// condition), as upstream's BindingREST does; a pod already assigned is a conflict.
    public func bind(_ def: ResourceDefinition, namespace: String, name: String, node: String,
                     options: WriteOptions = .init()) async throws(StatusError) -> JSON {
        guard !node.isEmpty else {
            throw .invalid(kind: "Binding", group: "", name: name, [.required("target.name", "")])
        }
        let (obj, _) = try await guaranteedUpdate(def, namespace, name, options: options, subresource: .binding) { old, _ throws(StatusError) in
            if old["metadata"]["deletionTimestamp"].string != nil {
                throw .conflict(GroupResource(group: "", resource: "pods/binding"), name, "pod \(name) is being deleted, cannot be assigned to a host")
            }
            if let current = old["spec"]["nodeName"].string, !current.isEmpty {
                throw .conflict(GroupResource(group: "", resource: "pods/binding"), name, "pod \(name) is already assigned to node \"\(current)\"")
            }
            var pod = old
            pod["spec"]["nodeName"] = .string(node)
            pod["status"]["nominatedNodeName"] = nil
            PodConditions.set(&pod, type: "PodScheduled", status: "True")
            return pod
        }
        return obj
    }
}
