import BlytzData
import BlytzServices
import Payments

ServiceMain.main(functions: Payments.functions, migrations: Payments.migrations, setup: ServiceParts.setup)
