import BlytzData
import Payments

ServiceMain.main(functions: Payments.functions, migrations: Payments.migrations)
