"""riskgrid pricing: trades, market data, QuantLib reference pricing and numpy kernels."""
