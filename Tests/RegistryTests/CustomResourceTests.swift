import APIMachinery
import Foundation
import Resources
import XCTest

final class CustomResourceTests: XCTestCase {
    // MARK: JSONPath

    let pod: JSON = [
        "metadata": ["name": "web", "labels": ["app": "nginx", "kubernetes.io/os": "linux"]],
        "spec": ["replicas": 3, "a.b": "dotted"],
        "status": ["conditions": [["type": "Ready", "status": "True"], ["type": "Synced", "status": "False"]]],
        "items": [["name": "a", "n": 1], ["name": "b", "n": 2], ["name": "c", "n": 3]],
    ]

    func eval(_ expression: String) throws -> [JSON] { try JSONPath(expression).evaluate(pod) }

    func testJSONPathMembersAndIndexes() throws {
        XCTAssertEqual(try eval(".spec.replicas"), [3])
        XCTAssertEqual(try eval("{.spec.replicas}"), [3])
        XCTAssertEqual(try eval("$.metadata.labels.app"), ["nginx"])
        XCTAssertEqual(try eval(".status.conditions[0].type"), ["Ready"])
        XCTAssertEqual(try eval(".status.conditions[-1].type"), ["Synced"])
        XCTAssertEqual(try eval(".items[*].name"), ["a", "b", "c"])
        XCTAssertEqual(try eval(".items[0:2].name"), ["a", "b"])
        XCTAssertEqual(try eval(".items[0,2].name"), ["a", "c"])
        XCTAssertEqual(try eval(".spec['a.b']"), ["dotted"])
        XCTAssertEqual(try eval(#".metadata.labels.kubernetes\.io/os"#), ["linux"])
        XCTAssertEqual(try eval(".metadata.missing.deeper"), [])
        XCTAssertEqual(try eval(".status.conditions[5]"), [])
        XCTAssertEqual(try eval("..type"), ["Ready", "Synced"])
    }

    func testJSONPathFilters() throws {
        XCTAssertEqual(try eval(#".status.conditions[?(@.type=="Ready")].status"#), ["True"])
        XCTAssertEqual(try eval(".status.conditions[?(@.type == 'Synced')].status"), ["False"])
        XCTAssertEqual(try eval(".items[?(@.n > 1)].name"), ["b", "c"])
        XCTAssertEqual(try eval(".items[?(@.n)].name").count, 3)
        XCTAssertEqual(try eval(".items[?(@.missing)].name"), [])
    }

    func testJSONPathRejectsMalformedExpressions() {
        for bad in ["{.spec", ".items[", ".items[?(@.n >)]", "spec.replicas", ".items['a]"] {
            XCTAssertThrowsError(try JSONPath(bad), bad)
        }
    }

    // MARK: CRD → resource declarations

    static let widgetSchema: JSON = [
        "type": "object",
        "properties": [
            "spec": [
                "type": "object", "required": ["size"],
                "properties": [
                    "replicas": ["type": "integer", "minimum": 1, "maximum": 10, "default": 1],
                    "size": ["type": "string", "enum": ["small", "large"]],
                    "name": ["type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"],
                    "port": ["x-kubernetes-int-or-string": true],
                    "tags": ["type": "array", "minItems": 1, "maxItems": 2, "items": ["type": "string"]],
                    "note": ["type": "string", "nullable": true],
                    "extra": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
                    "limits": ["type": "object", "additionalProperties": ["type": "integer"]],
                ],
            ],
            "status": ["type": "object", "properties": ["replicas": ["type": "integer"], "selector": ["type": "string"]]],
        ],
    ]

    static func widgetCRD(versions: [JSON]? = nil) -> JSON {
        let v1: JSON = [
            "name": "v1", "served": true, "storage": true,
            "schema": ["openAPIV3Schema": widgetSchema],
            "subresources": ["status": [:], "scale": ["specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                                                      "labelSelectorPath": ".status.selector"]],
            "additionalPrinterColumns": [
                ["name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"],
                ["name": "Size", "type": "string", "jsonPath": ".spec.size", "priority": 1],
                ["name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"],
            ],
        ]
        let v1beta1: JSON = ["name": "v1beta1", "served": false, "storage": false, "schema": ["openAPIV3Schema": ["type": "object"]]]
        return [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": "widgets.example.com"],
            "spec": [
                "group": "example.com", "scope": "Namespaced",
                "names": ["plural": "widgets", "kind": "Widget", "shortNames": ["wd"], "categories": ["all"]],
                "versions": .array(versions ?? [v1, v1beta1]),
            ],
        ]
    }

    func widget() throws -> ResourceDefinition {
        let defs = CustomResource.definitions(from: Self.widgetCRD())
        XCTAssertEqual(defs.count, 1, "only served versions")
        return try XCTUnwrap(defs.first)
    }

    func testDefinitionFromCRD() throws {
        let def = try widget()
        XCTAssertEqual([def.group, def.version, def.kind, def.plural, def.singular], ["example.com", "v1", "Widget", "widgets", "widget"])
        XCTAssertEqual(def.shortNames, ["wd"])
        XCTAssertEqual(def.categories, ["all"])
        XCTAssertTrue(def.namespaced)
        XCTAssertTrue(def.hasStatus)
        XCTAssertTrue(def.tracksGeneration)
        XCTAssertEqual(def.scale?.specReplicasPath, ["spec", "replicas"])
        XCTAssertEqual(def.scale?.statusReplicasPath, ["status", "replicas"])
        XCTAssertEqual(def.scale?.labelSelectorPath, ["status", "selector"])
        XCTAssertEqual(def.schemaName, "com.example.v1.Widget")
    }

    func testColumnsRenderLikeUpstream() throws {
        let def = try widget()
        XCTAssertEqual(def.columns.map(\.name), ["Replicas", "Size", "Age"])
        XCTAssertEqual(def.columns.map(\.priority), [0, 1, 0])
        let created = APITime.format(Date().addingTimeInterval(-300))
        let obj: JSON = ["metadata": ["name": "w", "creationTimestamp": .string(created)], "spec": ["replicas": 2]]
        XCTAssertEqual(def.columns.map { $0.cell(obj) }, [2, .null, "5m"])

        var bare = Self.widgetCRD()
        bare["spec"]["versions"] = [["name": "v1", "served": true, "storage": true]]
        let plain = try XCTUnwrap(CustomResource.definitions(from: bare).first)
        XCTAssertEqual(plain.columns.map(\.name), ["Age"])
        XCTAssertFalse(plain.hasStatus)
        XCTAssertNil(plain.scale)
    }

    func testSchemasFromCRD() throws {
        let schemas = CustomResource.schemas(from: Self.widgetCRD())
        let widget = try XCTUnwrap(schemas["com.example.v1.Widget"])
        XCTAssertEqual(widget["x-kubernetes-group-version-kind"], [["group": "example.com", "version": "v1", "kind": "Widget"]])
        XCTAssertEqual(widget["properties"]["metadata"], Schema.objectMeta)
        XCTAssertEqual(widget["properties"]["spec"], Self.widgetSchema["properties"]["spec"])
        XCTAssertNotNil(schemas["com.example.v1.WidgetList"])
        XCTAssertNil(schemas["com.example.v1beta1.Widget"])
    }

    // MARK: custom resource validation

    func messages(_ spec: JSON) throws -> [String] {
        try widget().strategy.validate(["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": spec])
            .map(\.description)
    }

    func testValidObjectPasses() throws {
        XCTAssertEqual(try messages(["size": "small", "replicas": 3, "port": "http", "note": nil, "unknown": ["kept": true],
                                     "extra": ["anything": [1, 2]], "limits": ["cpu": 2]]), [])
    }

    func testSchemaErrorMessages() throws {
        XCTAssertEqual(try messages(["replicas": "string"]), [
            "spec.size: Required value",
            #"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#,
        ])
        XCTAssertEqual(try messages(["size": "x"]), [#"spec.size: Unsupported value: "x": supported values: "small", "large""#])
        XCTAssertEqual(try messages(["size": "small", "replicas": 0]),
                       ["spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"])
        XCTAssertEqual(try messages(["size": "small", "replicas": 11]),
                       ["spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10"])
        XCTAssertEqual(try messages(["size": "small", "name": "a"]),
                       [#"spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long"#])
        XCTAssertEqual(try messages(["size": "small", "name": "abcdef"]), ["spec.name: Too long: may not be more than 5 bytes"])
        XCTAssertEqual(try messages(["size": "small", "name": "AB"]),
                       [#"spec.name: Invalid value: "AB": spec.name in body should match '^[a-z]+$'"#])
        XCTAssertEqual(try messages(["size": "small", "tags": []]),
                       ["spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items"])
        XCTAssertEqual(try messages(["size": "small", "tags": ["a", 1]]),
                       [#"spec.tags[1]: Invalid value: "integer": spec.tags[1] in body must be of type string: "integer""#])
        XCTAssertEqual(try messages(["size": "small", "port": true]),
                       [#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#])
        XCTAssertEqual(try messages(["size": nil]),
                       [#"spec.size: Invalid value: "null": spec.size in body must be of type string: "null""#])
        XCTAssertEqual(try messages(["size": "small", "limits": ["cpu": "x"]]),
                       [#"spec.limits.cpu: Invalid value: "string": spec.limits.cpu in body must be of type integer: "string""#])
    }

    func testSchemaDefaults() throws {
        var obj: JSON = ["metadata": ["name": "w"], "spec": ["size": "small"]]
        try widget().strategy.defaults(&obj)
        XCTAssertEqual(obj["spec"]["replicas"], 1)
        XCTAssertEqual(obj["status"], .null, "defaults apply only inside present objects")
    }

    // MARK: CRD declaration

    var crdDef: ResourceDefinition { ApiextensionsV1.resources[0] }

    func crdErrors(_ crd: JSON) -> [String] {
        var crd = crd
        crdDef.strategy.defaults(&crd)
        return crdDef.strategy.validate(crd).map(\.description)
    }

    func testCRDDeclaration() throws {
        XCTAssertEqual(crdDef.plural, "customresourcedefinitions")
        XCTAssertTrue(crdDef.shortNames.contains("crd"))
        XCTAssertFalse(crdDef.namespaced)
        XCTAssertEqual(crdDef.columns.map(\.name), ["Created At"])
        XCTAssertEqual(crdDef.columns[0].cell(["metadata": ["creationTimestamp": "2024-01-02T03:04:05Z"]]), "2024-01-02T03:04:05Z")
        XCTAssertNotNil(UpstreamSchemas.definitions[try XCTUnwrap(crdDef.schemaName)])
    }

    func testCRDDefaultsAndStatus() {
        var crd = Self.widgetCRD()
        crdDef.strategy.prepareForCreate(&crd)
        crdDef.strategy.defaults(&crd)
        XCTAssertEqual(crd["spec"]["names"]["singular"], "widget")
        XCTAssertEqual(crd["spec"]["names"]["listKind"], "WidgetList")
        XCTAssertEqual(crd["spec"]["conversion"], ["strategy": "None"])
        XCTAssertEqual(crd["status"]["acceptedNames"], crd["spec"]["names"])
        XCTAssertEqual(crd["status"]["storedVersions"], ["v1"])
        XCTAssertEqual(crd["status"]["conditions"].array?.map { $0["type"] }, ["NamesAccepted", "Established"])
        XCTAssertEqual(crd["status"]["conditions"][1]["reason"], "InitialNamesAccepted")
        XCTAssertEqual(crdErrors(crd), [])
    }

    func testCRDValidationMessages() {
        var crd = Self.widgetCRD()
        crd["metadata"]["name"] = "x"
        XCTAssertEqual(crdErrors(crd), [#"metadata.name: Invalid value: "x": must be spec.names.plural+"."+spec.group"#])

        crd = Self.widgetCRD()
        crd["metadata"]["name"] = "widgets.example"
        crd["spec"]["group"] = "example"
        XCTAssertEqual(crdErrors(crd), [#"spec.group: Invalid value: "example": should be a domain with at least one dot"#])

        crd = Self.widgetCRD()
        crd["spec"]["scope"] = "Global"
        crd["spec"]["names"]["plural"] = nil
        XCTAssertEqual(crdErrors(crd), [
            #"metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group"#,
            #"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#,
            "spec.names.plural: Required value",
        ])

        crd = Self.widgetCRD(versions: [
            ["name": "v1", "served": true, "storage": true],
            ["name": "v2", "served": true, "storage": true, "schema": ["openAPIV3Schema": ["properties": ["spec": ["properties": [:]]]]]],
        ])
        let errors = crdErrors(crd)
        XCTAssertEqual(errors.count, 4, "\(errors)")
        XCTAssertEqual(errors[0], "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required")
        XCTAssertEqual(errors[1], "spec.versions[1].schema.openAPIV3Schema.type: Required value: must not be empty at the root")
        XCTAssertEqual(errors[2], "spec.versions[1].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields")
        XCTAssertTrue(errors[3].hasPrefix("spec.versions: Invalid value: "), errors[3])
        XCTAssertTrue(errors[3].hasSuffix(": must have exactly one version marked as storage version"), errors[3])
    }

    func testCRDImmutableFields() {
        let old = Self.widgetCRD()
        var new = old
        new["spec"]["scope"] = "Cluster"
        new["spec"]["group"] = "other.io"
        XCTAssertEqual(crdDef.strategy.validateUpdate(new, old).map(\.description), [
            #"spec.scope: Invalid value: "Cluster": field is immutable"#,
            #"spec.group: Invalid value: "other.io": field is immutable"#,
        ])
    }
}
