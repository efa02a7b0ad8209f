"""Define, test and continuously deploy serverless AWS applications with troposphere."""
