import Foundation
import GRDB
import TongCore

/// One enterprise profile as stored at the node where it registered (送达). Never replicated.
public struct EnterpriseRow: Sendable, Equatable {
    /// Node-local id, `<node>-ent-<12 hex>`.
    public var id: String
    /// Unified social credit code (GB 32100-2015), validated.
    public var uscc: String
    /// SHA-256 (hex) of the enterprise's bearer token; the token itself is never stored.
    public var tokenHash: String
    /// Registered name.
    public var name: String
    /// GB/T 2260 division code where it is registered.
    public var region: String
    /// GB/T 4754-2017 industry code, e.g. `H62` or `F5211`.
    public var industry: String
    /// Employees (从业人员), persons.
    public var employees: Int
    /// Annual operating revenue (营业收入), 万元.
    public var revenueWan: Int
    /// Total assets (资产总额), 万元.
    public var assetsWan: Int
    /// Date of establishment, `YYYY-MM-DD`.
    public var establishedOn: String
    /// `small_scale` or `general`.
    public var taxpayer: String
    /// Size class by 工信部联企业〔2011〕300号, computed from the fields above.
    public var sizeClass: String
    /// `{"name", "phone", "email"?}`.
    public var contact: JSONValue
    /// Where deliveries are POSTed (Standard Webhooks), if anywhere.
    public var webhookURL: String?
    /// The webhook signing secret, `whsec_<base64>`.
    public var webhookSecret: String?
    /// Registration and last change, ms since 1970.
    public var createdAt: Int64
    /// Last change, ms since 1970.
    public var updatedAt: Int64

    /// Makes one.
    public init(id: String, uscc: String, tokenHash: String, name: String, region: String, industry: String, employees: Int,
                revenueWan: Int, assetsWan: Int, establishedOn: String, taxpayer: String, sizeClass: String, contact: JSONValue,
                webhookURL: String?, webhookSecret: String?, createdAt: Int64, updatedAt: Int64) {
        self.id = id; self.uscc = uscc; self.tokenHash = tokenHash; self.name = name; self.region = region
        self.industry = industry; self.employees = employees; self.revenueWan = revenueWan; self.assetsWan = assetsWan
        self.establishedOn = establishedOn; self.taxpayer = taxpayer; self.sizeClass = sizeClass; self.contact = contact
        self.webhookURL = webhookURL; self.webhookSecret = webhookSecret; self.createdAt = createdAt; self.updatedAt = updatedAt
    }

    /// What matching sees of it.
    public var profile: EnterpriseProfile {
        EnterpriseProfile(
            uscc: uscc, region: region, industry: IndustryCode(industry), sizeClass: SizeClass(rawValue: sizeClass),
            employees: employees, revenueWan: Double(revenueWan), assetsWan: Double(assetsWan),
            establishedOn: SimpleDate(establishedOn), taxpayer: TaxpayerType(rawValue: taxpayer))
    }

    static let columns = """
        id, uscc, token_hash, name, region, industry, employees, revenue_wan, assets_wan, established_on, taxpayer, size_class, \
        contact, webhook_url, webhook_secret, created_at, updated_at
        """

    init(row: Row) {
        let contactText: String = row[12]
        self.init(
            id: row[0], uscc: row[1], tokenHash: row[2], name: row[3], region: row[4], industry: row[5], employees: row[6],
            revenueWan: row[7], assetsWan: row[8], establishedOn: row[9], taxpayer: row[10], sizeClass: row[11],
            contact: (try? JSONParser.parse(contactText)) ?? [:], webhookURL: row[13], webhookSecret: row[14],
            createdAt: row[15], updatedAt: row[16])
    }

    var arguments: StatementArguments {
        [id, uscc, tokenHash, name, region, industry, employees, revenueWan, assetsWan, establishedOn, taxpayer, sizeClass,
         String(decoding: CanonicalJSON.encode(contact), as: UTF8.self), webhookURL, webhookSecret, createdAt, updatedAt]
    }
}
