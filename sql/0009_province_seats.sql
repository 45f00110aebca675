-- 0009: provincial seats of the 34 current units (copy of dxpulse/reference/province_seats.csv).
--
-- Where each province sits on the dashboards' map: its seat (the provincial capital, or
-- the city itself for a centrally-run city) and the seat's coordinates (WGS 84, city
-- centre). After the 2025 merger a merged unit's seat is the capital it kept, the one
-- whose code it kept (new 15 Lào Cai sits in Yên Bái, new 52 Gia Lai in Quy Nhơn).
-- tests/unit/dashboards/test_seats.py checks these rows against the CSV.

CREATE TABLE IF NOT EXISTS {{database}}.province_seats
(
    code       LowCardinality(String) COMMENT 'Current provincial code (2 digits)',
    seat       String                 COMMENT 'Seat: provincial capital, or the city itself',
    latitude   Float64                COMMENT 'Latitude of the seat, degrees north (WGS 84)',
    longitude  Float64                COMMENT 'Longitude of the seat, degrees east (WGS 84)'
)
ENGINE = ReplacingMergeTree
ORDER BY code
COMMENT 'Seats and map coordinates of the 34 current provincial units';

INSERT INTO {{database}}.province_seats (code, seat, latitude, longitude)
SELECT * FROM values(
    'code String, seat String, latitude Float64, longitude Float64',
    ('01', 'Hà Nội', 21.0285, 105.8542),
    ('04', 'Cao Bằng', 22.6657, 106.2570),
    ('08', 'Tuyên Quang', 21.8236, 105.2140),
    ('11', 'Điện Biên Phủ', 21.3860, 103.0230),
    ('12', 'Lai Châu', 22.3964, 103.4582),
    ('14', 'Sơn La', 21.3270, 103.9144),
    ('15', 'Yên Bái', 21.7229, 104.9113),
    ('19', 'Thái Nguyên', 21.5942, 105.8482),
    ('20', 'Lạng Sơn', 21.8537, 106.7615),
    ('22', 'Hạ Long', 20.9560, 107.0720),
    ('24', 'Bắc Giang', 21.2731, 106.1946),
    ('25', 'Việt Trì', 21.3227, 105.4019),
    ('31', 'Hải Phòng', 20.8449, 106.6881),
    ('33', 'Hưng Yên', 20.6464, 106.0511),
    ('37', 'Hoa Lư', 20.2539, 105.9750),
    ('38', 'Thanh Hóa', 19.8067, 105.7852),
    ('40', 'Vinh', 18.6796, 105.6813),
    ('42', 'Hà Tĩnh', 18.3428, 105.9057),
    ('44', 'Đồng Hới', 17.4690, 106.6222),
    ('46', 'Huế', 16.4637, 107.5909),
    ('48', 'Đà Nẵng', 16.0544, 108.2022),
    ('51', 'Quảng Ngãi', 15.1214, 108.8044),
    ('52', 'Quy Nhơn', 13.7830, 109.2197),
    ('56', 'Nha Trang', 12.2388, 109.1967),
    ('66', 'Buôn Ma Thuột', 12.6667, 108.0383),
    ('68', 'Đà Lạt', 11.9404, 108.4583),
    ('75', 'Biên Hòa', 10.9574, 106.8429),
    ('79', 'Thành phố Hồ Chí Minh', 10.7769, 106.7009),
    ('80', 'Tân An', 10.5359, 106.4137),
    ('82', 'Mỹ Tho', 10.3600, 106.3600),
    ('86', 'Vĩnh Long', 10.2537, 105.9722),
    ('91', 'Rạch Giá', 10.0125, 105.0809),
    ('92', 'Cần Thơ', 10.0452, 105.7469),
    ('96', 'Cà Mau', 9.1769, 105.1524)
)
WHERE code NOT IN (SELECT code FROM {{database}}.province_seats);
