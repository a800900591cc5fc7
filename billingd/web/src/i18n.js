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
    accounts: 'Accounts', mapping_gateways: 'Mapping gateways',
    routing_gateways: 'Routing gateways', gateway_groups: 'Gateway groups',
    rate_tables: 'Rate tables', work_calendars: 'Work calendars',
    package_period_rates: 'Period rates', phones: 'Phones',
    new: 'New', save: 'Save', cancel: 'Cancel', delete: 'Delete',
    confirm_delete: 'Delete {name}? This cannot be undone.',
    previous: 'Previous', next: 'Next', showing: '{from}–{to} of {total}',
    no_items: 'Nothing here yet.', required: 'Required.',
    bad_json: 'Not valid JSON.', fix_fields: 'Please correct the fields marked below.',
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
    accounts: '账户', mapping_gateways: '对接网关',
    routing_gateways: '落地网关', gateway_groups: '网关组',
    rate_tables: '费率表', work_calendars: '工作日历',
    package_period_rates: '时段费率', phones: '话机',
    new: '新建', save: '保存', cancel: '取消', delete: '删除',
    confirm_delete: '删除 {name}？此操作无法撤销。',
    previous: '上一页', next: '下一页', showing: '第 {from}–{to} 条，共 {total} 条',
    no_items: '暂无数据。', required: '必填。',
    bad_json: '不是有效的 JSON。', fix_fields: '请修正下面标出的字段。',
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
