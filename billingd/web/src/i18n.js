// i18n.js - the web manager's words in English and Simplified Chinese.
// The language is chosen per user (the user's `language` in the API) and,
// before sign-in, follows the browser's.
export const LANGS = { en: 'English', zh: '简体中文' };

const WORDS = {
  en: {
    title: 'Tandem web manager',
    login: 'Sign in', username: 'Username', password: 'Password',
    logout: 'Sign out', language: 'Language',
    bad_login: 'Wrong username or password.',
    locked: 'Too many failed sign-ins: this account is locked for a while. Try again later.',
    expired: 'Your session ended. Sign in again.',
    error: 'Something went wrong', retry: 'Retry',
    dashboard: 'Dashboard', calls: 'Current calls',
    live_calls: 'Concurrent calls', cps: 'Calls per second',
    signalingd: 'Signaling', up: 'up', down: 'down',
    media_nodes: 'Media nodes online', mapping_gateways: 'Mapping gateways',
    routing_gateways: 'Routing gateways', phones_online: 'Phones online',
    alarms: 'Active alarms', critical: 'critical', locked_n: 'locked',
    offline: 'offline', today: 'Today', income: 'Income', cost: 'Cost',
    profit: 'Profit', answered: 'answered', minutes: 'minutes',
    chart_title: 'Concurrent calls and ASR, last hour',
    asr: 'ASR %', updated: 'Updated',
    no_calls: 'No calls right now.', filter: 'Filter',
    filter_hint: 'account, number or gateway',
    account: 'Account', caller: 'Caller', callee: 'Callee',
    state: 'State', gateway: 'Gateway', duration: 'Duration',
    codec: 'Codecs', dtmf: 'DTMF', hangup: 'Hang up',
    confirm_hangup: 'Hang up the call from {caller} to {callee}?',
    hung_up: 'Call hung up.', menu: 'Menu', skip: 'Skip to content',
    accounts: 'Accounts', gateway_groups: 'Gateway groups',
    rate_tables: 'Rate tables', work_calendars: 'Work calendars',
    package_period_rates: 'Period rates', phones: 'Phones',
    new: 'New', save: 'Save', cancel: 'Cancel', delete: 'Delete',
    confirm_delete: 'Delete {name}? This cannot be undone.',
    previous: 'Previous', next: 'Next', showing: '{from}–{to} of {total}',
    no_items: 'Nothing here yet.', required: 'Required.',
    bad_json: 'Not valid JSON.', fix_fields: 'Please correct the fields marked below.',
    access: 'Web access control', acd_pdd_chart: 'ACD and PDD (s)', acd_s: 'ACD (s)',
    acked: 'Alarm acknowledged.', acknowledge: 'Acknowledge', acknowledged: 'Acknowledged',
    active_only: 'Active', agent: 'Agent', alarm: 'Alarm', alarms_page: 'Alarms',
    amount: 'Amount', analyse: 'Analyse', analysis: 'Routing analysis', any: 'Any',
    area: 'Area', asr_chart: 'ASR (%)', attempts: 'Attempts',
    bad_amount: 'A decimal amount with at most 6 decimals, e.g. 100.50.',
    balance_after: 'Balance after', balance_label: 'Balance', batch_made: '{n} cards made.',
    batches: 'Batches', billable_s: 'Billable seconds', billing: 'Billing', by: 'By',
    calls_answered: 'Calls / answered', candidates: 'Candidates, in order',
    card_batches: 'Phone cards', card_value: 'Value per card', cards_of: 'Cards of {batch}',
    cdrs: 'CDRs', cleared: 'Cleared',
    confirm_pay: '{kind} of {amount} for {account}?',
    confirm_wac: 'Only these addresses will reach the web manager and the API: {list}. Make sure yours is among them. Save?',
    count: 'Count', cpu: 'CPU', create: 'Create', created: 'Created', credit_label: 'Credit limit',
    csv_empty: 'The file is empty.', csv_no_prefix: 'The first line must name the columns, with at least "prefix".',
    csv_unknown: 'Unknown columns: {cols}.',
    csv_help: 'A CSV file whose first line names the columns: {cols}. Importing replaces the entries below; Save writes them.',
    csv_loaded: '{n} entries read from the file. Save to write them.',
    default: 'Default', disk: 'Disk', download_pins: 'Download numbers and PINs (CSV)',
    duration_s: 'Duration (s)', end_reason: 'End', entries_csv: 'Entries as CSV',
    excluded: 'Left out', expires: 'Expires', export_csv: 'Export CSV', fee: 'Fee',
    first_rate: 'First rate', first_used: 'First used', from: 'From', history: 'History',
    hold_s: 'Talk (s)', import_csv: 'Import CSV…', intervals: 'Intervals (s)', kind: 'Kind',
    load: 'load', make_payment: 'New payment', mapping_gateway: 'Mapping gateway', memo: 'Memo',
    memory: 'Memory', message: 'Message', minutes_h: 'Minutes', my_account: 'My account',
    name: 'Name', new_batch: 'New batch', next_rate: 'Next rate', no_alarms: 'No alarms.',
    no_candidates: 'No gateway would take this number.', no_cdrs: 'No CDRs match.',
    no_report: 'No report from this node yet.', no_traffic: 'No traffic in this period.',
    number: 'Number', number_filter: 'Number (caller or callee)', online: 'online',
    paid: 'Done: {account} now has {balance}.', parameter: 'Parameter', params: 'System parameters',
    pay: 'Pay', payments: 'Payments', pdd_ms: 'PDD (ms)', pdd_s: 'PDD (s)',
    per_account: 'Per account', per_gateway: 'Per gateway', performance: 'Performance',
    period: 'Period', period_label: 'Period', pins_once: 'The PINs are shown this once: download them now.',
    prefix: 'Prefix', quote: 'Rate it', raised: 'Raised', rate_dry_run: 'Rate a call',
    rate_table: 'Rate table', rates: 'Rates', reason: 'Reason', reset: 'Default', result: 'Result',
    revenue: 'Revenue and top 10', route_analysis: 'Which gateways would take a number',
    saved_param: '{name} saved.', search: 'Search', setup_time: 'Set up', severity: 'Severity',
    show: 'Show', showing_open: '{from}–{to}', since: 'Since', stats: 'Statistics',
    sub_account: 'Sub-account', subject: 'Subject', time: 'Time', to: 'To',
    top_accounts: 'Top 10 accounts by income', top_destinations: 'Top 10 destinations (minutes)',
    top_gateways: 'Top 10 gateways (minutes)', value: 'Value', vendor_cost: 'Vendor cost',
    wac_help: 'Addresses and networks (comma-separated, e.g. 192.0.2.0/24) that may use the web manager and the API. Empty: any address.',
    wac_list: 'Allowed addresses', would_skip: 'skipped now', would_try: 'would be tried',
    r_answered: 'Answered', r_no_answer: 'No answer', r_busy: 'Busy', r_failed: 'Failed',
    g_monitor: 'Monitor', g_billing: 'Billing', g_config: 'Configuration', g_system: 'System',
    role_admin: 'administrator', role_operator: 'operator', role_agent: 'agent', role_customer: 'customer',
    k_topup: 'Top-up', k_deduct: 'Deduction', k_refund: 'Refund', k_credit: 'Credit limit',
    k_transfer: 'Transfer to a sub-account',
    p_topup: 'Top-up', p_deduction: 'Deduction', p_refund: 'Refund', p_credit_limit: 'Credit limit',
    p_transfer_out: 'Transfer out', p_transfer_in: 'Transfer in',
    last_1h: 'Last hour', last_24h: 'Last 24 hours', last_7d: 'Last 7 days',
    sev_critical: 'critical', sev_major: 'major', sev_warning: 'warning', users: 'Web users',
  },
  zh: {
    title: 'Tandem 网页管理',
    login: '登录', username: '用户名', password: '密码',
    logout: '退出', language: '语言',
    bad_login: '用户名或密码错误。',
    locked: '登录失败次数过多：该账户已被暂时锁定，请稍后再试。',
    expired: '会话已结束，请重新登录。',
    error: '出错了', retry: '重试',
    dashboard: '仪表盘', calls: '当前通话',
    live_calls: '并发通话', cps: '每秒呼叫数',
    signalingd: '信令', up: '运行', down: '停止',
    media_nodes: '在线媒体节点', mapping_gateways: '对接网关',
    routing_gateways: '落地网关', phones_online: '在线话机',
    alarms: '活动告警', critical: '严重', locked_n: '已锁定',
    offline: '离线', today: '今日', income: '收入', cost: '成本',
    profit: '利润', answered: '接通', minutes: '分钟',
    chart_title: '最近一小时并发通话与接通率',
    asr: '接通率 %', updated: '更新于',
    no_calls: '当前没有通话。', filter: '筛选',
    filter_hint: '账户、号码或网关',
    account: '账户', caller: '主叫', callee: '被叫',
    state: '状态', gateway: '网关', duration: '时长',
    codec: '编码', dtmf: 'DTMF', hangup: '挂断',
    confirm_hangup: '挂断 {caller} 到 {callee} 的通话？',
    hung_up: '通话已挂断。', menu: '菜单', skip: '跳到正文',
    accounts: '账户', gateway_groups: '网关组',
    rate_tables: '费率表', work_calendars: '工作日历',
    package_period_rates: '时段费率', phones: '话机',
    new: '新建', save: '保存', cancel: '取消', delete: '删除',
    confirm_delete: '删除 {name}？此操作无法撤销。',
    previous: '上一页', next: '下一页', showing: '第 {from}–{to} 条，共 {total} 条',
    no_items: '暂无数据。', required: '必填。',
    bad_json: '不是有效的 JSON。', fix_fields: '请修正下面标出的字段。',
    access: '网页访问控制', acd_pdd_chart: '平均通话时长与接续时延（秒）', acd_s: 'ACD（秒）',
    acked: '告警已确认。', acknowledge: '确认', acknowledged: '已确认',
    active_only: '活动', agent: '代理商', alarm: '告警', alarms_page: '告警',
    amount: '金额', analyse: '分析', analysis: '路由分析', any: '全部',
    area: '地区', asr_chart: '接通率（%）', attempts: '呼叫次数',
    bad_amount: '金额为最多 6 位小数的十进制数，如 100.50。',
    balance_after: '操作后余额', balance_label: '余额', batch_made: '已生成 {n} 张卡。',
    batches: '批次', billable_s: '计费秒数', billing: '计费方式', by: '操作人',
    calls_answered: '呼叫 / 接通', candidates: '候选网关（按顺序）',
    card_batches: '电话卡', card_value: '每张面值', cards_of: '{batch} 的电话卡',
    cdrs: '话单', cleared: '已清除',
    confirm_pay: '为 {account} 执行{kind} {amount}？',
    confirm_wac: '只有这些地址可以访问网页管理和 API：{list}。请确认包含您自己的地址。保存？',
    count: '数量', cpu: 'CPU', create: '创建', created: '创建于', credit_label: '信用额度',
    csv_empty: '文件为空。', csv_no_prefix: '第一行须为列名，至少包含 "prefix"。',
    csv_unknown: '未知的列：{cols}。',
    csv_help: 'CSV 文件第一行为列名：{cols}。导入会替换下面的费率条目，点击保存后写入。',
    csv_loaded: '已从文件读取 {n} 条，保存后写入。',
    default: '默认值', disk: '磁盘', download_pins: '下载卡号与密码（CSV）',
    duration_s: '时长（秒）', end_reason: '结束原因', entries_csv: '费率条目 CSV',
    excluded: '已排除', expires: '有效期至', export_csv: '导出 CSV', fee: '费用',
    first_rate: '首段费率', first_used: '首次使用', from: '开始', history: '历史',
    hold_s: '通话（秒）', import_csv: '导入 CSV…', intervals: '计费间隔（秒）', kind: '类型',
    load: '负载', make_payment: '新建缴费', mapping_gateway: '对接网关', memo: '备注',
    memory: '内存', message: '内容', minutes_h: '分钟', my_account: '我的账户',
    name: '名称', new_batch: '新建批次', next_rate: '续段费率', no_alarms: '没有告警。',
    no_candidates: '没有网关可以接收此号码。', no_cdrs: '没有符合条件的话单。',
    no_report: '此节点尚未上报。', no_traffic: '此期间没有话务。',
    number: '号码', number_filter: '号码（主叫或被叫）', online: '在线',
    paid: '完成：{account} 当前余额 {balance}。', parameter: '参数', params: '系统参数',
    pay: '提交', payments: '缴费记录', pdd_ms: 'PDD（毫秒）', pdd_s: 'PDD（秒）',
    per_account: '按账户', per_gateway: '按网关', performance: '系统性能',
    period: '时段', period_label: '时间范围', pins_once: '密码只显示这一次，请立即下载。',
    prefix: '前缀', quote: '计算费用', raised: '产生时间', rate_dry_run: '费用试算',
    rate_table: '费率表', rates: '费率', reason: '原因', reset: '恢复默认', result: '结果',
    revenue: '营收与前十', route_analysis: '号码会走哪些网关',
    saved_param: '{name} 已保存。', search: '查询', setup_time: '呼叫时间', severity: '级别',
    show: '显示', showing_open: '第 {from}–{to} 条', since: '起始', stats: '统计',
    sub_account: '下级账户', subject: '对象', time: '时间', to: '结束',
    top_accounts: '收入前十账户', top_destinations: '前十目的地（分钟）',
    top_gateways: '前十网关（分钟）', value: '值', vendor_cost: '落地成本',
    wac_help: '可以使用网页管理和 API 的地址或网段（逗号分隔，如 192.0.2.0/24）。留空表示不限。',
    wac_list: '允许的地址', would_skip: '当前会跳过', would_try: '会尝试',
    r_answered: '接通', r_no_answer: '无应答', r_busy: '忙', r_failed: '失败',
    g_monitor: '监控', g_billing: '计费', g_config: '配置', g_system: '系统',
    role_admin: '管理员', role_operator: '操作员', role_agent: '代理商', role_customer: '客户',
    k_topup: '充值', k_deduct: '扣款', k_refund: '退款', k_credit: '信用额度',
    k_transfer: '转账给下级账户',
    p_topup: '充值', p_deduction: '扣款', p_refund: '退款', p_credit_limit: '信用额度',
    p_transfer_out: '转出', p_transfer_in: '转入',
    last_1h: '最近一小时', last_24h: '最近 24 小时', last_7d: '最近 7 天',
    sev_critical: '严重', sev_major: '重要', sev_warning: '警告', users: '网页用户',
  },
};

let lang = 'en';

export function setLang(l) {
  lang = WORDS[l] ? l : 'en';
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

export function getLang() {
  return lang;
}

// the word for key, with {name} replaced from vars
export function t(key, vars) {
  let s = (WORDS[lang] && WORDS[lang][key]) || WORDS.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
  return s;
}

// a user's language as the API stores it (en | zh-CN) -> ours
export function langOf(user) {
  if (user && user.language) return user.language === 'zh-CN' ? 'zh' : 'en';
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function apiLang(l) {
  return l === 'zh' ? 'zh-CN' : 'en';
}

// field names in Chinese; English shows the API's name in words
const FIELDS_ZH = {
  name: '名称', type: '类型', agent: '代理商', balance: '余额',
  credit_limit: '信用额度', billing_type: '计费方式', rate_table: '费率表',
  buy_rate_table: '采购费率表', package_period_rate: '时段费率',
  work_calendar: '工作日历', max_concurrent_calls: '最大并发',
  number_allow: '允许号码前缀', number_deny: '禁止号码前缀',
  agent_authorizations: '代理商权限', ctd_model: 'CTD 模式',
  suppress_duration_alarm: '不报时长告警', low_balance_alarm: '余额告警阈值',
  locked: '锁定', account: '账户', auth_mode: '认证方式', ips: 'IP 地址',
  ports: '端口', username: '用户名', password: '密码', cps_limit: 'CPS 限制',
  max_call_duration_s: '最长通话（秒）', caller_dial_plan: '主叫拨号规则',
  callee_dial_plan: '被叫拨号规则', caller_source: '主叫号码来源',
  media: '媒体设置', support_privacy: '支持隐私', priority_customer: '优先客户',
  media_handover: '媒体切换', phone_card_mode: '电话卡模式',
  phone_card_prefix: '电话卡前缀', address: '地址', port: '端口',
  transport: '传输协议', register_username: '注册用户名',
  register_password: '注册密码', prefixes: '前缀', priority: '优先级',
  line_limit: '线路限制', gateway_prefix: '网关前缀',
  switch_until_connect: '接通前切换', stop_codes: '停止切换的响应码',
  identity: '主叫身份', caller_pool: '主叫号码池', protect_route: '保护路由',
  gateway_group: '网关组', mapping_filter_mode: '对接网关过滤方式',
  mapping_filter: '对接网关过滤', options_keepalive: 'OPTIONS 保活',
  active_period: '生效时段', capacity: '容量', reserved_lines: '预留线路',
  entries: '费率条目', time_zone: '时区', working_days: '工作日',
  work_start: '上班时间', work_end: '下班时间', holidays: '节假日',
  calendar: '日历', working_rate_table: '工作时段费率表',
  non_working_rate_table: '非工作时段费率表', number: '号码',
};

export function label(field) {
  if (lang === 'zh' && FIELDS_ZH[field]) return FIELDS_ZH[field];
  const s = field.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// the API's help texts (OpenAPI descriptions) in Chinese, by field
const HELP_ZH = {
  type: '客户、供应商或两者', balance: '初始余额，仅在创建账户时生效',
  credit_limit: '允许透支到零以下的额度', billing_type: '预付费或后付费',
  max_concurrent_calls: '0 = 不限', number_allow: '允许的被叫前缀（空 = 全部）',
  number_deny: '拒绝的被叫前缀', agent_authorizations: '此账户作为代理商可做的操作，须为其上级代理商权限的子集',
  ctd_model: '标准或流量', suppress_duration_alarm: '不产生“通话时间过长”告警',
  low_balance_alarm: '余额低于此值时告警（0 = 关闭）', locked: '锁定的账户不能呼叫',
  account: '所属客户账户（名称）', auth_mode: 'IP、IP+端口或密码',
  ips: '来源 IPv4/IPv6 地址或网段', ports: '来源端口（ip_port 认证；空 = 任意）',
  cps_limit: '每秒呼叫数（0 = 不限）', max_call_duration_s: '通话时长上限（秒，0 = 仅按 SS_MAXCALLDURATION）',
  caller_dial_plan: '入局时改写主叫号码', callee_dial_plan: '入局时、路由前改写被叫号码',
  caller_source: '主叫号码取自 From、显示名或 RPID', media: '编码、DTMF 与媒体代理设置，整体替换',
  support_privacy: '透传 Privacy/PAI', priority_customer: '可使用网关组的预留线路',
  media_handover: '静默 2 秒后允许 RTP 换到主叫地址的新端口（NAT）',
  phone_card_mode: '主叫使用电话卡付费：<前缀><卡号><密码>#<目的号码>',
  phone_card_prefix: '卡号前拨打的接入前缀', address: 'SIP 主机：IPv4、IPv6 或域名',
  port: 'SIP 端口', transport: 'UDP 或 TCP', prefixes: '路由到此网关的被叫前缀，整体替换',
  priority: '1 = 最先尝试', line_limit: '并发通话数（0 = 不限）', gateway_prefix: '加在被叫号码前的技术前缀',
  switch_until_connect: '失败时切换到下一个网关', stop_codes: '直接返回给主叫、不再切换的失败码',
  identity: 'PAI、Privacy、PPI 与附加头域，整体替换', caller_pool: '主叫号码池，整体替换',
  protect_route: '在所有普通网关之后尝试', mapping_filter_mode: '无、允许或禁止',
  mapping_filter: '过滤方式所作用的对接网关名称', options_keepalive: 'OPTIONS 保活；离线网关会被跳过',
  active_period: '全天、工作时段或非工作时段（按工作日历）', capacity: '组内网关的总线路数（0 = 不限）',
  reserved_lines: '为优先客户和保护路由保留的线路', entries: '费率条目，整体替换',
  time_zone: '工作时间与日期所用的 IANA 时区', working_days: '工作日（ISO 星期，1 = 星期一）',
  work_start: '上班时间（含）', work_end: '下班时间（不含），须晚于上班时间',
  holidays: '非工作日日期，整体替换', calendar: '工作日历（名称）',
  working_rate_table: '工作时段的费率表', non_working_rate_table: '非工作时段、节假日与非工作日的费率表',
  password: '摘要认证密码（只保存其 HA1）',
};

// a field's help: the API's own text, in Chinese when we have it
export function help(field, english) {
  if (lang === 'zh' && HELP_ZH[field]) return HELP_ZH[field];
  return english;
}
