-- 0002: the provincial units, current and former (copy of dxpulse/reference/localities.csv).
--
-- 34 units are current since 2025-07-01 (Resolution 202/2025/QH15, codes from Decision
-- 19/2025/QĐ-TTg); 63 were in use before (Decision 124/2004/QĐ-TTg). Every former code
-- maps to exactly one current unit (successor_code). Events may carry either; dxpulse
-- stores the current code. tests/integration/test_schema.py checks these rows against
-- the CSV the pipeline normalises with.

CREATE TABLE IF NOT EXISTS {{database}}.localities
(
    code            LowCardinality(String) COMMENT 'Provincial code (2 digits)',
    name            String                 COMMENT 'Official name',
    kind            LowCardinality(String) COMMENT 'province or city',
    valid_from      Nullable(Date)         COMMENT 'First day the code means this unit (NULL: before records)',
    valid_to        Nullable(Date)         COMMENT 'Last day (NULL: current)',
    successor_code  LowCardinality(String) COMMENT 'The current unit this one is part of',
    is_current      UInt8 MATERIALIZED valid_to IS NULL
)
ENGINE = ReplacingMergeTree
ORDER BY (code, ifNull(valid_to, toDate('2299-12-31')))
COMMENT 'Provincial units, current and former, with their successor codes';

INSERT INTO {{database}}.localities (code, name, kind, valid_from, valid_to, successor_code)
SELECT * FROM values(
    'code String, name String, kind String, valid_from Nullable(Date), valid_to Nullable(Date), successor_code String',
    ('01', 'Thành phố Hà Nội', 'city', toDate('2025-07-01'), NULL, '01'),
    ('04', 'Cao Bằng', 'province', toDate('2025-07-01'), NULL, '04'),
    ('08', 'Tuyên Quang', 'province', toDate('2025-07-01'), NULL, '08'),
    ('11', 'Điện Biên', 'province', toDate('2025-07-01'), NULL, '11'),
    ('12', 'Lai Châu', 'province', toDate('2025-07-01'), NULL, '12'),
    ('14', 'Sơn La', 'province', toDate('2025-07-01'), NULL, '14'),
    ('15', 'Lào Cai', 'province', toDate('2025-07-01'), NULL, '15'),
    ('19', 'Thái Nguyên', 'province', toDate('2025-07-01'), NULL, '19'),
    ('20', 'Lạng Sơn', 'province', toDate('2025-07-01'), NULL, '20'),
    ('22', 'Quảng Ninh', 'province', toDate('2025-07-01'), NULL, '22'),
    ('24', 'Bắc Ninh', 'province', toDate('2025-07-01'), NULL, '24'),
    ('25', 'Phú Thọ', 'province', toDate('2025-07-01'), NULL, '25'),
    ('31', 'Thành phố Hải Phòng', 'city', toDate('2025-07-01'), NULL, '31'),
    ('33', 'Hưng Yên', 'province', toDate('2025-07-01'), NULL, '33'),
    ('37', 'Ninh Bình', 'province', toDate('2025-07-01'), NULL, '37'),
    ('38', 'Thanh Hóa', 'province', toDate('2025-07-01'), NULL, '38'),
    ('40', 'Nghệ An', 'province', toDate('2025-07-01'), NULL, '40'),
    ('42', 'Hà Tĩnh', 'province', toDate('2025-07-01'), NULL, '42'),
    ('44', 'Quảng Trị', 'province', toDate('2025-07-01'), NULL, '44'),
    ('46', 'Thành phố Huế', 'city', toDate('2025-07-01'), NULL, '46'),
    ('48', 'Thành phố Đà Nẵng', 'city', toDate('2025-07-01'), NULL, '48'),
    ('51', 'Quảng Ngãi', 'province', toDate('2025-07-01'), NULL, '51'),
    ('52', 'Gia Lai', 'province', toDate('2025-07-01'), NULL, '52'),
    ('56', 'Khánh Hòa', 'province', toDate('2025-07-01'), NULL, '56'),
    ('66', 'Đắk Lắk', 'province', toDate('2025-07-01'), NULL, '66'),
    ('68', 'Lâm Đồng', 'province', toDate('2025-07-01'), NULL, '68'),
    ('75', 'Đồng Nai', 'province', toDate('2025-07-01'), NULL, '75'),
    ('79', 'Thành phố Hồ Chí Minh', 'city', toDate('2025-07-01'), NULL, '79'),
    ('80', 'Tây Ninh', 'province', toDate('2025-07-01'), NULL, '80'),
    ('82', 'Đồng Tháp', 'province', toDate('2025-07-01'), NULL, '82'),
    ('86', 'Vĩnh Long', 'province', toDate('2025-07-01'), NULL, '86'),
    ('91', 'An Giang', 'province', toDate('2025-07-01'), NULL, '91'),
    ('92', 'Thành phố Cần Thơ', 'city', toDate('2025-07-01'), NULL, '92'),
    ('96', 'Cà Mau', 'province', toDate('2025-07-01'), NULL, '96'),
    ('01', 'Hà Nội', 'city', NULL, toDate('2025-06-30'), '01'),
    ('02', 'Hà Giang', 'province', NULL, toDate('2025-06-30'), '08'),
    ('04', 'Cao Bằng', 'province', NULL, toDate('2025-06-30'), '04'),
    ('06', 'Bắc Kạn', 'province', NULL, toDate('2025-06-30'), '19'),
    ('08', 'Tuyên Quang', 'province', NULL, toDate('2025-06-30'), '08'),
    ('10', 'Lào Cai', 'province', NULL, toDate('2025-06-30'), '15'),
    ('11', 'Điện Biên', 'province', NULL, toDate('2025-06-30'), '11'),
    ('12', 'Lai Châu', 'province', NULL, toDate('2025-06-30'), '12'),
    ('14', 'Sơn La', 'province', NULL, toDate('2025-06-30'), '14'),
    ('15', 'Yên Bái', 'province', NULL, toDate('2025-06-30'), '15'),
    ('17', 'Hòa Bình', 'province', NULL, toDate('2025-06-30'), '25'),
    ('19', 'Thái Nguyên', 'province', NULL, toDate('2025-06-30'), '19'),
    ('20', 'Lạng Sơn', 'province', NULL, toDate('2025-06-30'), '20'),
    ('22', 'Quảng Ninh', 'province', NULL, toDate('2025-06-30'), '22'),
    ('24', 'Bắc Giang', 'province', NULL, toDate('2025-06-30'), '24'),
    ('25', 'Phú Thọ', 'province', NULL, toDate('2025-06-30'), '25'),
    ('26', 'Vĩnh Phúc', 'province', NULL, toDate('2025-06-30'), '25'),
    ('27', 'Bắc Ninh', 'province', NULL, toDate('2025-06-30'), '24'),
    ('30', 'Hải Dương', 'province', NULL, toDate('2025-06-30'), '31'),
    ('31', 'Hải Phòng', 'city', NULL, toDate('2025-06-30'), '31'),
    ('33', 'Hưng Yên', 'province', NULL, toDate('2025-06-30'), '33'),
    ('34', 'Thái Bình', 'province', NULL, toDate('2025-06-30'), '33'),
    ('35', 'Hà Nam', 'province', NULL, toDate('2025-06-30'), '37'),
    ('36', 'Nam Định', 'province', NULL, toDate('2025-06-30'), '37'),
    ('37', 'Ninh Bình', 'province', NULL, toDate('2025-06-30'), '37'),
    ('38', 'Thanh Hóa', 'province', NULL, toDate('2025-06-30'), '38'),
    ('40', 'Nghệ An', 'province', NULL, toDate('2025-06-30'), '40'),
    ('42', 'Hà Tĩnh', 'province', NULL, toDate('2025-06-30'), '42'),
    ('44', 'Quảng Bình', 'province', NULL, toDate('2025-06-30'), '44'),
    ('45', 'Quảng Trị', 'province', NULL, toDate('2025-06-30'), '44'),
    ('46', 'Thừa Thiên Huế', 'province', NULL, toDate('2025-06-30'), '46'),
    ('48', 'Đà Nẵng', 'city', NULL, toDate('2025-06-30'), '48'),
    ('49', 'Quảng Nam', 'province', NULL, toDate('2025-06-30'), '48'),
    ('51', 'Quảng Ngãi', 'province', NULL, toDate('2025-06-30'), '51'),
    ('52', 'Bình Định', 'province', NULL, toDate('2025-06-30'), '52'),
    ('54', 'Phú Yên', 'province', NULL, toDate('2025-06-30'), '66'),
    ('56', 'Khánh Hòa', 'province', NULL, toDate('2025-06-30'), '56'),
    ('58', 'Ninh Thuận', 'province', NULL, toDate('2025-06-30'), '56'),
    ('60', 'Bình Thuận', 'province', NULL, toDate('2025-06-30'), '68'),
    ('62', 'Kon Tum', 'province', NULL, toDate('2025-06-30'), '51'),
    ('64', 'Gia Lai', 'province', NULL, toDate('2025-06-30'), '52'),
    ('66', 'Đắk Lắk', 'province', NULL, toDate('2025-06-30'), '66'),
    ('67', 'Đắk Nông', 'province', NULL, toDate('2025-06-30'), '68'),
    ('68', 'Lâm Đồng', 'province', NULL, toDate('2025-06-30'), '68'),
    ('70', 'Bình Phước', 'province', NULL, toDate('2025-06-30'), '75'),
    ('72', 'Tây Ninh', 'province', NULL, toDate('2025-06-30'), '80'),
    ('74', 'Bình Dương', 'province', NULL, toDate('2025-06-30'), '79'),
    ('75', 'Đồng Nai', 'province', NULL, toDate('2025-06-30'), '75'),
    ('77', 'Bà Rịa - Vũng Tàu', 'province', NULL, toDate('2025-06-30'), '79'),
    ('79', 'Thành phố Hồ Chí Minh', 'city', NULL, toDate('2025-06-30'), '79'),
    ('80', 'Long An', 'province', NULL, toDate('2025-06-30'), '80'),
    ('82', 'Tiền Giang', 'province', NULL, toDate('2025-06-30'), '82'),
    ('83', 'Bến Tre', 'province', NULL, toDate('2025-06-30'), '86'),
    ('84', 'Trà Vinh', 'province', NULL, toDate('2025-06-30'), '86'),
    ('86', 'Vĩnh Long', 'province', NULL, toDate('2025-06-30'), '86'),
    ('87', 'Đồng Tháp', 'province', NULL, toDate('2025-06-30'), '82'),
    ('89', 'An Giang', 'province', NULL, toDate('2025-06-30'), '91'),
    ('91', 'Kiên Giang', 'province', NULL, toDate('2025-06-30'), '91'),
    ('92', 'Cần Thơ', 'city', NULL, toDate('2025-06-30'), '92'),
    ('93', 'Hậu Giang', 'province', NULL, toDate('2025-06-30'), '92'),
    ('94', 'Sóc Trăng', 'province', NULL, toDate('2025-06-30'), '92'),
    ('95', 'Bạc Liêu', 'province', NULL, toDate('2025-06-30'), '96'),
    ('96', 'Cà Mau', 'province', NULL, toDate('2025-06-30'), '96')
)
WHERE (code, ifNull(valid_to, toDate('2299-12-31'))) NOT IN
      (SELECT code, ifNull(valid_to, toDate('2299-12-31')) FROM {{database}}.localities);

-- The 34 current units: what dashboards and the analyst views name.
CREATE VIEW IF NOT EXISTS {{database}}.v_localities AS
SELECT code AS locality_code, name AS locality_name, kind
FROM {{database}}.localities FINAL
WHERE valid_to IS NULL;
