"""The trading journal: trades with partial closes, their P&L, images and data access."""
