import BlytzData
import BlytzServices
import Contracts

ServiceMain.main(functions: Contracts.functions, migrations: Contracts.migrations, setup: ServiceParts.setup)
