import APIMachinery

/// Mirror pods: the API's view of a pod a node runs by itself rather than because the API asked
/// (upstream's static pods; in Cubby, the components inside localkube). The annotation marks
/// them; nodes run no containers for them, and admission leaves their spec as it is.
public enum MirrorPod {
    public static let annotation = "kubernetes.io/config.mirror"

    public static func isMirror(_ pod: JSON) -> Bool { !pod["metadata"]["annotations"][annotation].isNull }
}
