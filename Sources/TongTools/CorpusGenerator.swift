import TongCore
import TongDomain

/// Makes synthetic but realistic Chinese policy documents for the benchmark: titles, bodies,
/// document numbers, departments, regions and themes. Policy `i` depends only on the seed and
/// `i`, so corpora are reproducible and any slice can be generated on its own.
public struct CorpusGenerator: Sendable {
    /// A department the generated policies are issued by.
    public struct Department: Sendable {
        /// Slug after the node id (`330000-hrss`).
        public var slug: String
        /// Full name.
        public var name: String
        /// Short form used in document numbers (人社, 财, 税 …).
        public var abbreviation: String
        /// Makes one.
        public init(slug: String, name: String, abbreviation: String) { self.slug = slug; self.name = name; self.abbreviation = abbreviation }
    }

    /// A region (division code and name) a policy applies to.
    public struct Region: Sendable {
        /// Division code.
        public var code: String
        /// Name as it appears in titles.
        public var name: String
        /// One- or two-character prefix of its document numbers (浙, 杭, 甬 …).
        public var abbreviation: String
        /// Makes one.
        public init(code: String, name: String, abbreviation: String) { self.code = code; self.name = name; self.abbreviation = abbreviation }
    }

    /// The seed every document derives from.
    public let seed: UInt64
    /// The issuing node: owner of every policy, and the node part of every department id.
    public let owner: String
    /// Departments of the owner.
    public let departments: [Department]
    /// Regions the policies apply to.
    public let regions: [Region]

    /// A generator for policies owned by `owner`.
    public init(seed: UInt64, owner: String, departments: [Department] = Self.standardDepartments, regions: [Region] = Self.zhejiang) {
        self.seed = seed; self.owner = owner; self.departments = departments; self.regions = regions
    }

    /// Departments every generated node has.
    public static let standardDepartments: [Department] = [
        .init(slug: "gov", name: "人民政府办公厅", abbreviation: "政办"),
        .init(slug: "hrss", name: "人力资源和社会保障厅", abbreviation: "人社"),
        .init(slug: "dof", name: "财政厅", abbreviation: "财"),
        .init(slug: "tax", name: "税务局", abbreviation: "税"),
        .init(slug: "amr", name: "市场监督管理局", abbreviation: "市监"),
        .init(slug: "commerce", name: "商务厅", abbreviation: "商务"),
        .init(slug: "drc", name: "发展和改革委员会", abbreviation: "发改"),
        .init(slug: "finance", name: "地方金融监督管理局", abbreviation: "金融"),
    ]

    /// Zhejiang and some of its cities and districts.
    public static let zhejiang: [Region] = [
        .init(code: "330000", name: "浙江省", abbreviation: "浙"), .init(code: "330100", name: "杭州市", abbreviation: "杭"),
        .init(code: "330106", name: "西湖区", abbreviation: "西"), .init(code: "330108", name: "滨江区", abbreviation: "滨"),
        .init(code: "330110", name: "余杭区", abbreviation: "余"), .init(code: "330200", name: "宁波市", abbreviation: "甬"),
        .init(code: "330203", name: "海曙区", abbreviation: "海"), .init(code: "330300", name: "温州市", abbreviation: "温"),
        .init(code: "330400", name: "嘉兴市", abbreviation: "嘉"), .init(code: "330500", name: "湖州市", abbreviation: "湖"),
        .init(code: "330600", name: "绍兴市", abbreviation: "绍"), .init(code: "330700", name: "金华市", abbreviation: "金"),
    ]

    /// The fields of policy `i` exactly as `TongNode.create` stores them (status included).
    public func policy(_ i: Int) -> [String: JSONValue] {
        var f = createBody(i)
        f["status"] = "active"
        return f
    }

    /// The body of policy `i` as a client would post it to `create` (every field validated there).
    public func createBody(_ i: Int) -> [String: JSONValue] {
        var r = SplitMix64(seed: seed &+ UInt64(truncatingIfNeeded: i) &* 0x9E37_79B9_7F4A_7C15)
        let region = regions[r.below(regions.count)]
        let dept = departments[r.below(departments.count)]
        let theme = Self.topics[r.below(Self.topics.count)]
        var themes = [theme.theme]
        if r.chance(0.3) {
            let second = Self.topics[r.below(Self.topics.count)].theme
            if second != theme.theme { themes.append(second) }
        }
        let year = 2020 + r.below(4)
        let month = 1 + r.below(12), day = 1 + r.below(28)
        let date = "\(year)-\(Self.two(month))-\(Self.two(day))"
        let topic = theme.titles[r.below(theme.titles.count)]
        let title: String
        switch r.below(6) {
        case 0: title = "关于\(topic)的通知"
        case 1: title = "\(region.name)\(topic)若干措施"
        case 2: title = "\(region.name)关于\(topic)的实施细则"
        case 3: title = "关于印发《\(region.name)\(topic)实施办法》的通知"
        case 4: title = "\(region.name)\(dept.name)关于\(topic)的实施意见"
        default: title = "关于\(r.pick(Self.adverbs))\(topic)的通知"
        }
        let docKind = r.pick(["发", "函", "规", "办发", "明电"])
        let docNumber = "\(region.abbreviation)\(dept.abbreviation)\(docKind)〔\(year)〕\(1 + r.below(120))号"
        var tags = Set<String>()
        for _ in 0..<(1 + r.below(4)) { tags.insert(r.pick(Self.tags)) }
        var audiences = ["micro", "small", "individual"]
        if r.chance(0.4) { audiences.append("medium") }
        if r.chance(0.3) { audiences.removeFirst() }
        return [
            "title": .string(title), "doc_number": .string(docNumber), "department": .string("\(owner)-\(dept.slug)"),
            "region": .string(region.code), "issued_on": .string(date), "effective_from": .string(date),
            "themes": .strings(themes), "tags": .strings(tags.sorted()), "audiences": .strings(audiences),
            "body": .string(body(&r, theme: theme, region: region, year: year)),
            "source_url": .string("https://www.zj.gov.cn/art/\(year)/\(month)/\(day)/art_\(1_229_000_000 + i).html"),
        ]
    }

    private func body(_ r: inout SplitMix64, theme: Topic, region: Region, year: Int) -> String {
        let target = 150 + r.below(251)
        var text = "为深入贯彻落实党中央、国务院决策部署，\(r.pick(Self.openings))，结合\(region.name)实际，制定本\(r.pick(["通知", "措施", "细则", "办法"]))。"
        var sentences = theme.sentences + Self.common
        if r.chance(0.02) { sentences.append(contentsOf: Self.rare) }
        while text.count < target {
            let s = fill(r.pick(sentences), &r, year: year)
            if text.count + s.count > 400, text.count >= 150 { break }
            text += s
        }
        return text
    }

    private func fill(_ template: String, _ r: inout SplitMix64, year: Int) -> String {
        var s = template
        s = s.replacingOccurrences(of: "{aud}", with: r.pick(Self.audienceWords))
        s = s.replacingOccurrences(of: "{n}", with: String(1 + r.below(12)))
        s = s.replacingOccurrences(of: "{pct}", with: String(5 * (1 + r.below(18))))
        s = s.replacingOccurrences(of: "{wan}", with: String(r.pick([1, 2, 3, 5, 10, 20, 50, 100, 300])))
        s = s.replacingOccurrences(of: "{year}", with: String(year))
        s = s.replacingOccurrences(of: "{next}", with: String(year + 1 + r.below(2)))
        return s
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// A theme with the title topics and body sentences typical of it.
    struct Topic: Sendable {
        var theme: String
        var titles: [String]
        var sentences: [String]
    }

    static let topics: [Topic] = [
        Topic(
            theme: "resume_work",
            titles: ["支持企业复工复产", "加快推动复工复产", "助企纾困促进复工复产", "做好重点企业复工复产服务保障工作"],
            sentences: [
                "对复工复产的{aud}，按每家{wan}万元给予一次性补助。", "建立复工复产企业服务专员制度，帮助{aud}协调解决用工、物流、原材料等困难。",
                "对受疫情影响暂停营业的{aud}，复工复产后给予防疫物资补贴。", "开辟复工复产审批绿色通道，相关事项实行“容缺受理”。",
            ]),
        Topic(
            theme: "stabilize_jobs",
            titles: ["做好稳岗返还工作", "实施一次性扩岗补助", "进一步稳企稳岗扩就业", "加大稳岗支持力度"],
            sentences: [
                "对不裁员或少裁员的参保企业，按{pct}%的比例返还上年度实际缴纳的失业保险费。", "{aud}招用高校毕业生并签订劳动合同的，按每人{wan}千元发放一次性扩岗补助。",
                "稳岗返还资金直接拨付至企业对公账户，实行“免申即享”。", "对吸纳就业困难人员的{aud}，给予社会保险补贴和岗位补贴。",
            ]),
        Topic(
            theme: "finance_tax",
            titles: ["减免小微企业增值税", "实施小微企业所得税优惠政策", "加大普惠金融支持力度", "落实创业担保贷款贴息政策", "进一步减轻市场主体税费负担"],
            sentences: [
                "增值税小规模纳税人适用{pct}%征收率的应税销售收入，免征增值税。", "对小型微利企业年应纳税所得额不超过{wan}万元的部分，减按{pct}%计入应纳税所得额。",
                "金融机构对{aud}新发放的贷款，按贷款市场报价利率（LPR）的{pct}%给予贴息。", "对符合条件的{aud}，创业担保贷款额度最高{wan}万元，财政按规定给予贴息。",
                "鼓励银行对{aud}贷款实施延期还本付息，延期期限原则上不超过{n}个月。",
            ]),
        Topic(
            theme: "social_insurance",
            titles: ["阶段性缓缴社会保险费", "扩大社保缓缴政策实施范围", "阶段性降低失业保险费率", "做好社保费缓缴工作"],
            sentences: [
                "对生产经营困难的{aud}，可申请缓缴养老、失业、工伤三项社会保险单位缴费部分。", "缓缴期间免收滞纳金，缓缴期限最长不超过{n}个月。",
                "以单位方式参保的个体工商户参照企业办法缓缴社保费。", "企业缓缴社保费期间，不影响职工个人权益记录，职工依法享受各项社会保险待遇。",
            ]),
        Topic(
            theme: "rent_relief",
            titles: ["减免服务业小微企业和个体工商户房屋租金", "做好国有房屋租金减免工作", "减免小微企业房屋租金"],
            sentences: [
                "对承租国有房屋的{aud}，{year}年免收{n}个月租金。", "出租人减免租金的，可按规定减免当年房产税、城镇土地使用税。",
                "鼓励非国有房屋出租人减免{aud}租金，对减免租金的给予适当补贴。", "转租、分租国有房屋的，要确保租金减免惠及实际经营的{aud}。",
            ]),
        Topic(
            theme: "utilities",
            titles: ["给予小微企业水电气费用补贴", "实施水电气“欠费不停供”措施", "降低市场主体用水用电用气成本"],
            sentences: [
                "对{aud}的水电气费用，按实际缴纳金额的{pct}%给予补贴。", "对暂时出现困难的{aud}，用水用电用气实行“欠费不停供”，缓缴期限不超过{n}个月。",
                "免收{aud}用电报装工程费，低压办电时间压减至{n}个工作日。",
            ]),
        Topic(
            theme: "other",
            titles: ["优化营商环境", "促进消费加快恢复", "支持外贸企业稳订单拓市场", "进一步优化政务服务"],
            sentences: [
                "深化“最多跑一次”改革，企业开办时间压缩至{n}个工作日以内。", "发放消费券{wan}万元，支持餐饮、零售、文旅等行业恢复发展。",
                "对出口信用保险保费给予{pct}%补助，支持外贸企业稳订单。",
            ]),
    ]

    static let common: [String] = [
        "申请材料包括营业执照、申请表、银行账户信息等，可通过浙里办在线办理，{n}个工作日内完成审核。",
        "各地各部门要加强组织领导，压实工作责任，确保政策落地见效。", "本政策自{year}年1月1日起施行，有效期至{next}年12月31日。",
        "同一企业同时符合多项政策的，按照就高不重复原则执行。", "对弄虚作假骗取补贴资金的，依法追回并纳入信用记录。",
        "政策执行中如遇国家政策调整，按国家规定执行。", "各级财政部门要做好资金保障，及时足额拨付补助资金。",
        "税务部门要优化纳税服务，确保减税降费红利直达{aud}。", "人力资源社会保障部门负责做好政策宣传解读工作。",
    ]

    /// Words that occur in about 2% of documents: the "rare word" queries look for them.
    static let rare: [String] = [
        "支持专精特新“小巨人”企业开展技术改造。", "对跨境电商企业建设海外仓给予补助。", "加快冷链物流设施建设，对新建冷库给予补贴。",
        "支持区块链技术在供应链金融中的应用。", "对新建5G基站免收占道费用。", "对首台套装备给予保险补偿。",
    ]

    static let openings = ["进一步帮助市场主体纾困解难", "全力稳住经济基本盘", "统筹疫情防控和经济社会发展", "切实减轻企业负担", "加快经济恢复发展"]
    static let adverbs = ["进一步", "切实", "阶段性", "全面", "加快"]
    static let audienceWords = ["中小微企业", "小微企业", "个体工商户", "小型微利企业", "服务业小微企业", "参保企业", "市场主体"]
    static let tags = ["小微企业", "个体工商户", "社保", "缓缴", "稳岗", "租金", "减免", "增值税", "复工复产", "贷款", "贴息", "纾困", "补贴", "就业"]
}
