"""Offline metrics: ranking (precision/recall/NDCG/AUC/AP) and classification, with baselines."""
