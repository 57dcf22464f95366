-- "Version 0": the seed's three tables exactly as execution-module-architecture.ja.md defines
-- them (its `REFERENCES signals(id)` dropped: the seed never defines a signals table), with a
-- few rows as a seed-era worker would have written them (TIMESTAMP columns in UTC).
CREATE TABLE orders (
    id SERIAL PRIMARY KEY,
    exchange VARCHAR(50) NOT NULL,
    symbol VARCHAR(20) NOT NULL,
    order_id VARCHAR(100) NOT NULL UNIQUE,
    signal_id INTEGER,
    side VARCHAR(10) NOT NULL,
    order_type VARCHAR(20) NOT NULL,
    price DECIMAL(20, 8),
    size DECIMAL(20, 8) NOT NULL,
    status VARCHAR(20) NOT NULL,
    filled_size DECIMAL(20, 8) DEFAULT 0,
    average_price DECIMAL(20, 8),
    timestamp TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_orders_exchange_symbol ON orders(exchange, symbol, timestamp DESC);
CREATE INDEX idx_orders_status ON orders(status, timestamp DESC);
CREATE INDEX idx_orders_signal_id ON orders(signal_id);

CREATE TABLE executions (
    id SERIAL PRIMARY KEY,
    exchange VARCHAR(50) NOT NULL,
    symbol VARCHAR(20) NOT NULL,
    order_id INTEGER REFERENCES orders(id),
    execution_id VARCHAR(100) NOT NULL UNIQUE,
    side VARCHAR(10) NOT NULL,
    price DECIMAL(20, 8) NOT NULL,
    size DECIMAL(20, 8) NOT NULL,
    fee DECIMAL(20, 8) DEFAULT 0,
    timestamp TIMESTAMP NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_executions_exchange_symbol ON executions(exchange, symbol, timestamp DESC);
CREATE INDEX idx_executions_order_id ON executions(order_id);
CREATE INDEX idx_executions_timestamp ON executions(timestamp DESC);

CREATE TABLE positions (
    id SERIAL PRIMARY KEY,
    exchange VARCHAR(50) NOT NULL,
    symbol VARCHAR(20) NOT NULL,
    side VARCHAR(10) NOT NULL,
    size DECIMAL(20, 8) NOT NULL,
    average_price DECIMAL(20, 8) NOT NULL,
    unrealized_pnl DECIMAL(20, 8) DEFAULT 0,
    realized_pnl DECIMAL(20, 8) DEFAULT 0,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(exchange, symbol)
);
CREATE INDEX idx_positions_exchange_symbol ON positions(exchange, symbol);

INSERT INTO orders (exchange, symbol, order_id, signal_id, side, order_type, price, size, status,
                    filled_size, average_price, timestamp, created_at, updated_at)
VALUES ('gmo', 'BTC_JPY', '1001', 7, 'BUY', 'LIMIT', 10000000.12345678, 0.02, 'FILLED',
        0.02, 10000000.1, '2024-05-01 09:30:00', '2024-05-01 09:30:00', '2024-05-01 09:31:00'),
       ('gmo', 'BTC_JPY', '1002', 8, 'SELL', 'MARKET', NULL, 0.01, 'NEW',
        0, NULL, '2024-05-01 10:00:00', NULL, NULL);
INSERT INTO executions (exchange, symbol, order_id, execution_id, side, price, size, fee,
                        timestamp)
VALUES ('gmo', 'BTC_JPY', 1, '5001', 'BUY', 10000000.1, 0.015, 1.5, '2024-05-01 09:30:10'),
       ('gmo', 'BTC_JPY', 1, '5002', 'BUY', 10000000.1, 0.005, -0.25, '2024-05-01 09:30:20');
INSERT INTO positions (exchange, symbol, side, size, average_price, realized_pnl, updated_at)
VALUES ('gmo', 'BTC_JPY', 'LONG', 0.02, 10000000.1, -1.25, '2024-05-01 09:30:20'),
       ('gmo', 'ETH_JPY', 'LONG', 0, 0, 42.5, '2024-04-30 12:00:00');
