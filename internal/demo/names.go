package demo

// Word lists the registry generator composes names and addresses from. They
// are short lists of common characters and words, written for this project;
// every combination is fictional. Weights are rough relative frequencies so
// that common surnames come up more often, not statistics.

// weighted is a word with a relative frequency.
type weighted struct {
	word   string
	weight int
}

// surnames, most common first; weights in tenths of a percent, roughly.
var surnames = []weighted{
	{"王", 71}, {"李", 70}, {"张", 68}, {"刘", 54}, {"陈", 46}, {"杨", 31}, {"黄", 25}, {"赵", 23},
	{"吴", 21}, {"周", 20}, {"徐", 17}, {"孙", 15}, {"马", 15}, {"朱", 13}, {"胡", 13}, {"郭", 12},
	{"何", 12}, {"高", 11}, {"林", 11}, {"罗", 10}, {"郑", 10}, {"梁", 9}, {"谢", 8}, {"宋", 8},
	{"唐", 8}, {"许", 7}, {"韩", 7}, {"冯", 7}, {"邓", 7}, {"曹", 6}, {"彭", 6}, {"曾", 6},
	{"肖", 6}, {"田", 5}, {"董", 5}, {"袁", 5}, {"潘", 5}, {"于", 5}, {"蒋", 5}, {"蔡", 5},
	{"余", 5}, {"杜", 5}, {"叶", 4}, {"程", 4}, {"苏", 4}, {"魏", 4}, {"吕", 4}, {"丁", 4},
	{"任", 4}, {"沈", 4}, {"姚", 4}, {"卢", 4}, {"姜", 3}, {"崔", 3}, {"钟", 3}, {"谭", 3},
	{"陆", 3}, {"汪", 3}, {"范", 3}, {"金", 3}, {"石", 3}, {"廖", 3}, {"贾", 3}, {"夏", 3},
	{"韦", 3}, {"付", 3}, {"方", 3}, {"白", 2}, {"邹", 2}, {"孟", 2}, {"熊", 2}, {"秦", 2},
	{"邱", 2}, {"江", 2}, {"尹", 2}, {"薛", 2}, {"闫", 2}, {"段", 2}, {"雷", 2}, {"侯", 2},
	{"龙", 2}, {"史", 2}, {"陶", 2}, {"黎", 2}, {"贺", 2}, {"顾", 2}, {"毛", 2}, {"郝", 2},
	{"龚", 2}, {"邵", 2}, {"万", 2}, {"钱", 2}, {"严", 2}, {"武", 1}, {"戴", 1}, {"莫", 1},
	{"孔", 1}, {"向", 1}, {"汤", 1}, {"欧阳", 1},
}

// Given-name characters by sex and by generation: people born before 1980
// tend to carry different characters from those born after.
var (
	maleOlder     = []rune("建国军华明伟强平林勇刚兵志文海东新民永保德福生斌辉峰庆荣春宝忠成")
	maleYounger   = []rune("浩宇轩子俊杰涛磊鹏飞博凯晨阳睿泽铭宸毅航然帆哲豪昊锐健一天远嘉思")
	femaleOlder   = []rune("秀英芳兰桂华玉珍丽红梅凤霞娟萍敏静燕琴云春美艳淑翠玲")
	femaleYounger = []rune("欣怡婷雪琳丹慧颖佳悦涵晴诗雨梦思瑶璐倩洁妍萱然琪嘉文月晶")
)

// ethnicities other than 汉族, for the few percent who belong to one.
var ethnicities = []string{"壮族", "回族", "满族", "苗族", "彝族", "土家族", "蒙古族", "藏族", "侗族", "瑶族", "白族", "朝鲜族"}

// phonePrefixes are mobile number prefixes.
var phonePrefixes = []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "158", "159", "166", "177", "180", "181", "186", "187", "188", "189", "199"}

// community is a residents' community of the demo district; the codes and
// names are those of catalog/departments.yaml (a test keeps them in step).
type community struct {
	code, street, name string
}

var communities = []community{
	{"910102001001", "福安街道", "福安社区"},
	{"910102001002", "福安街道", "新洲社区"},
	{"910102002001", "华强街道", "华强北社区"},
	{"910102003001", "南园街道", "南园社区"},
}

const cityDistrict = "示范市明德区"

// roads of the demo district.
var roads = []string{
	"幸福路", "和平路", "建设路", "人民路", "文化路", "新华路", "解放路", "胜利路", "光明路", "友谊路",
	"团结路", "青年路", "育才路", "长安路", "振兴路", "繁荣路", "公园路", "学府路", "滨河路", "花园路",
	"朝阳路", "东风路", "红星路", "明德大道", "福安路", "新洲路", "华强路", "南园路", "工业路", "科技路",
	"创业路", "迎宾大道", "桂园路", "枫林路", "翠竹路", "梧桐街", "银杏街", "书院街",
}

// compounds are names of residential estates.
var compounds = []string{
	"锦绣花园", "阳光家园", "翠竹苑", "丽景华庭", "金色年华", "碧水湾", "和谐小区", "康乐新村", "怡景花园",
	"书香名苑", "桂花园", "海棠苑", "紫荆花园", "春晓小区", "枫林雅居", "明德新城", "福安佳苑", "南园新村",
}

// officeBuildings are where enterprises register their address.
var officeBuildings = []string{
	"创新大厦", "科技中心", "明德广场", "华强商务中心", "金融大厦", "国际商务港", "福安创意园", "南园科技园",
	"新洲大厦", "时代广场", "创业中心", "信息港",
}

// school is a fictional school: its name, its five-digit code and the
// highest level it awards.
type school struct {
	name string
	code int
	top  string // associate, bachelor or doctor
}

var (
	universities = []school{
		{"示范大学", 91001, "doctor"}, {"示范理工大学", 91002, "doctor"}, {"示范师范大学", 91003, "doctor"},
		{"示范财经大学", 91004, "doctor"}, {"示范医科大学", 91005, "doctor"}, {"示范农业大学", 91006, "doctor"},
		{"示范外国语大学", 91007, "bachelor"}, {"示范政法学院", 91008, "bachelor"}, {"明德学院", 91009, "bachelor"},
		{"南园科技大学", 91010, "doctor"}, {"福安师范学院", 91011, "bachelor"}, {"华强工程学院", 91012, "bachelor"},
		{"新洲大学", 91013, "doctor"}, {"示范艺术学院", 91014, "bachelor"},
	}
	colleges = []school{
		{"示范职业技术学院", 91101, "associate"}, {"明德职业技术学院", 91102, "associate"},
		{"示范城市职业学院", 91103, "associate"}, {"华强信息职业技术学院", 91104, "associate"},
		{"南园卫生职业学院", 91105, "associate"}, {"示范商贸职业学院", 91106, "associate"},
		{"福安工业职业技术学院", 91107, "associate"},
	}
)

// Enterprise names: 字号 (one of two or three characters) + industry + form.
var (
	tradeFirst  = []rune("华兴达盛鑫宏恒泰瑞祥丰源创新博智远航睿诚信德安康永嘉汇通联合金银海天宇明光正东方")
	tradeSecond = []rune("华兴达盛鑫宏恒泰瑞祥丰源创新博智远航睿诚信德安康永嘉汇通联合金银海天宇明光正")
	tradeThird  = []rune("科达源泰丰华信通盛德兴和美佳利安成顺")
)

// industry is a line of business with its business scope.
type industry struct {
	word, scope string
}

var industries = []industry{
	{"科技", "技术开发、技术咨询、技术服务；软件开发；计算机系统服务"},
	{"信息技术", "信息系统集成服务；数据处理和存储支持服务；软件开发"},
	{"贸易", "日用百货、服装鞋帽、五金产品的批发和零售；货物进出口"},
	{"餐饮管理", "餐饮服务；餐饮管理；食品销售"},
	{"建筑工程", "建设工程施工；建筑装饰工程；市政设施管理"},
	{"物流", "普通货物道路运输；仓储服务（不含危险化学品）；国内货物运输代理"},
	{"文化传媒", "广告设计、制作、代理；组织文化艺术交流活动；会议及展览服务"},
	{"环保科技", "环保技术开发与咨询；固体废物治理；水污染治理"},
	{"医疗器械", "第一类、第二类医疗器械销售；医疗器械技术咨询"},
	{"食品", "食品生产；食品销售；农副产品销售"},
	{"物业管理", "物业管理；停车场服务；家政服务"},
	{"教育咨询", "教育咨询服务（不含涉许可审批的教育培训活动）；文化艺术培训"},
	{"电子商务", "互联网销售（除销售需要许可的商品）；电子产品销售；供应链管理服务"},
	{"装饰设计", "住宅室内装饰装修；建筑装饰材料销售；工程设计"},
	{"汽车服务", "机动车维修和保养；汽车零配件销售；二手车经纪"},
	{"健康管理", "健康咨询服务（不含诊疗服务）；养生保健服务；养老服务"},
	{"新能源", "太阳能发电技术服务；储能技术服务；充电桩运营"},
	{"农业发展", "蔬菜、水果种植；农产品初加工；农业技术推广服务"},
	{"人力资源", "人力资源服务（不含职业中介活动、劳务派遣服务）；劳务服务"},
	{"商贸", "日用品、文具用品、办公用品销售；家用电器销售"},
	{"印务", "包装装潢印刷品印刷；文件、资料等其他印刷品印刷；平面设计"},
	{"机电设备", "机械设备销售；电气设备修理；通用设备制造（不含特种设备制造）"},
	{"旅游", "旅游业务；旅游开发项目策划咨询；票务代理服务"},
	{"家政服务", "家政服务；保洁服务；养老服务"},
}

// capitals are registered capitals in 10,000 yuan, with weights.
var capitals = []struct {
	amount float64
	weight int
}{{10, 10}, {30, 8}, {50, 14}, {100, 22}, {200, 12}, {300, 8}, {500, 12}, {1000, 8}, {2000, 3}, {5000, 2}, {10000, 1}}

// Issuers of licences: departments of catalog/departments.yaml.
const (
	issuerPolice     = "示范市公安局明德分局"
	issuerTraffic    = "明德交通警察大队（车管所）"
	issuerRealEstate = "明德区不动产登记中心"
	issuerMarket     = "明德区市场监督管理局"
)
